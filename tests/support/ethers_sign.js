// Signs EIP-712 typed data the way ethers' Wallet._signTypedData does (ethers v5 packages,
// pinned in hardhat-node/). Reads {"typedData": ..., "privateKey": "0x..."} on stdin and
// prints the 65-byte signature. Used to check that the vault accepts a standard wallet's
// signature of the typed data its API publishes.
const path = require("path");
const modules = path.join(__dirname, "..", "..", "hardhat-node", "node_modules");
const { _TypedDataEncoder } = require(path.join(modules, "@ethersproject/hash"));
const { SigningKey } = require(path.join(modules, "@ethersproject/signing-key"));
const { joinSignature } = require(path.join(modules, "@ethersproject/bytes"));

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const { typedData, privateKey } = JSON.parse(input);
  const types = { ...typedData.types };
  delete types.EIP712Domain; // ethers derives the domain type from the domain itself
  const digest = _TypedDataEncoder.hash(typedData.domain, types, typedData.message);
  process.stdout.write(joinSignature(new SigningKey(privateKey).signDigest(digest)));
});
