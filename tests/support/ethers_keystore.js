// Keystore v3 files the way ethers reads and writes them (ethers v5's json-wallets, pinned in
// hardhat-node/), to check that the vault's exports open in a standard wallet library and
// that a wallet's file imports into the vault. Reads one JSON request on stdin:
//   {"op": "decrypt", "json": "<keystore file text>", "password": "..."} -> {"address", "privateKey"}
//   {"op": "encrypt", "privateKey": "0x...", "password": "...", "scryptN": 4096} -> the keystore file
const path = require("path");
const modules = path.join(__dirname, "..", "..", "hardhat-node", "node_modules");
const { decryptKeystore, encryptKeystore } = require(path.join(modules, "@ethersproject/json-wallets"));
const { computeAddress } = require(path.join(modules, "@ethersproject/transactions"));

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", async () => {
  const request = JSON.parse(input);
  if (request.op === "decrypt") {
    const account = await decryptKeystore(request.json, request.password);
    process.stdout.write(JSON.stringify({ address: account.address, privateKey: account.privateKey }));
  } else {
    const account = { address: computeAddress(request.privateKey), privateKey: request.privateKey };
    const options = request.scryptN ? { scrypt: { N: request.scryptN } } : {};
    process.stdout.write(await encryptKeystore(account, request.password, options));
  }
});
