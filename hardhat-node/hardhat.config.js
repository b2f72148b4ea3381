// Hardhat is used here only as a development node (`hardhat node`); contracts are compiled by
// chain/compiler.py with solc-js, so no `solidity` section: hardhat must never try to download
// a compiler. chain/engines/hardhat.py starts the node with this file and these variables:
//   DATAVAULT_HARDHAT_DIR   where hardhat may write its cache/artifacts (the engine's data dir)
//   DATAVAULT_ZERO_GAS=1    base fee 0, like a zero-gas consortium chain
const path = require("path");

const workDir = process.env.DATAVAULT_HARDHAT_DIR || path.join(__dirname, "cache");
const zeroGas = process.env.DATAVAULT_ZERO_GAS === "1";

/** @type import('hardhat/config').HardhatUserConfig */
module.exports = {
  defaultNetwork: "hardhat",
  networks: {
    hardhat: {
      chainId: 31337,
      // Same EVM as the artifacts are compiled for (evmVersion prague) and as anvil runs.
      hardfork: "prague",
      // Every transaction is mined at once, as on anvil. Accounts: the default mnemonic, whose
      // account 0 is the same key as anvil's first dev account.
      mining: { auto: true, interval: 0 },
      ...(zeroGas ? { initialBaseFeePerGas: 0, gasPrice: 0 } : {}),
    },
  },
  paths: {
    // Nothing to compile; keep hardhat's scratch files out of the repository.
    sources: path.join(workDir, "sources"),
    cache: path.join(workDir, "cache"),
    artifacts: path.join(workDir, "artifacts"),
  },
};
