"""The Besu QBFT genesis `chain.consortium` makes: its extraData is byte for byte what Besu
encodes (published vectors), and the genesis has what Besu's QBFT and free gas pages ask for."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from chain import consortium
from chain.artifacts import ARTIFACTS_DIR

# Besu documentation, "Configure QBFT consensus", genesis file example (block header validator
# selection): the extraData of a four-validator network.
DOCS_VALIDATORS = [
    "0x64a702e6263b7297a96638cac6ae65e6541f4169",
    "0x3923390ad55e90c237593b3b0e401f3b08a03185",
    "0xaefdb9a738c9f433e5b6b212a6d62f6370c2f692",
    "0xc7eeb9a4e00ce683cf93039b212648e01c6c6b78",
]
DOCS_EXTRA_DATA = (
    "0xf87aa00000000000000000000000000000000000000000000000000000000000000000f8549464a702e6263b7297a96638cac6ae6"
    "5e6541f4169943923390ad55e90c237593b3b0e401f3b08a0318594aefdb9a738c9f433e5b6b212a6d62f6370c2f69294c7eeb9a4"
    "e00ce683cf93039b212648e01c6c6b78c080c0"
)
# The same page, "Generate extra data": `besu rlp encode --type=QBFT_EXTRA_DATA` of toEncode.json.
DOCS_ENCODE_INPUT = [
    "0x4592c8e45706cc08b8f44b11e43cba0cfc5892cb",
    "0x06e23768a0f59cf365e18c2e0c89e151bcdedc70",
    "0xc5327f96ee02d7bcbc1bf1236b8c15148971e1de",
    "0xab5e7f4061c605820d3744227eed91ff8e2c8908",
]
DOCS_ENCODE_OUTPUT = (
    "0xf87aa00000000000000000000000000000000000000000000000000000000000000000f854944592c8e45706cc08b8f44b11e43cba"
    "0cfc5892cb9406e23768a0f59cf365e18c2e0c89e151bcdedc7094c5327f96ee02d7bcbc1bf1236b8c15148971e1de94ab5e7f4061"
    "c605820d3744227eed91ff8e2c8908c080c0"
)
# Besu's own test of that subcommand (RLPSubCommandTest.canEncodeToQbftExtraData), bare hex in.
BESU_TEST_INPUT = ["be068f726a13c8d46c44be6ce9d275600e1735a4", "5ff6f4b66a46a2b2310a6f3a93aaddc0d9a1c193"]
BESU_TEST_OUTPUT = (
    "0xf84fa00000000000000000000000000000000000000000000000000000000000000000ea94be068f726a13c8d46c44be6ce9d275600e"
    "1735a4945ff6f4b66a46a2b2310a6f3a93aaddc0d9a1c193c080c0"
)
# The IBFT 2.0 encoding of the same two validators (same test file): its round is four bytes.
BESU_IBFT_OUTPUT = (
    "0xf853a00000000000000000000000000000000000000000000000000000000000000000ea94be068f726a13c8d46c44be6ce9d275600e"
    "1735a4945ff6f4b66a46a2b2310a6f3a93aaddc0d9a1c193808400000000c0"
)
# Besu's QBFT page, contract validator selection: no validators in extraData.
DOCS_CONTRACT_SELECTION = "0xe5a00000000000000000000000000000000000000000000000000000000000000000c0c080c0"
# Besu's QBFT tutorial: a published test account (private key, address) in its genesis alloc.
TUTORIAL_KEY = bytes.fromhex("8f2a55949038a9610f50fb23b5883af3b4ecb3c3bb792cbcefbd1542c692be63")
TUTORIAL_ADDRESS = "0xfe3b557e8fb62b89f4916b721be55ceb828dbd73"
# Contract limits Besu applies unless a genesis says otherwise (EIP-170, EIP-3860).
CONTRACT_SIZE_LIMIT = 24_576
INITCODE_SIZE_LIMIT = 2 * CONTRACT_SIZE_LIMIT


@pytest.mark.parametrize(
    ("validators", "expected"),
    [
        (DOCS_VALIDATORS, DOCS_EXTRA_DATA),
        (DOCS_ENCODE_INPUT, DOCS_ENCODE_OUTPUT),
        (BESU_TEST_INPUT, BESU_TEST_OUTPUT),
    ],
)
def test_extra_data_is_what_besu_encodes(validators: list[str], expected: str) -> None:
    assert consortium.encode_extra_data(validators) == expected
    # Whatever the case of the addresses given.
    assert consortium.encode_extra_data([v.upper().replace("0X", "0x") for v in validators]) == expected


@pytest.mark.parametrize(
    ("extra", "validators"), [(DOCS_EXTRA_DATA, DOCS_VALIDATORS), (BESU_TEST_OUTPUT, BESU_TEST_INPUT)]
)
def test_extra_data_round_trips(extra: str, validators: list[str]) -> None:
    decoded = consortium.decode_extra_data(extra)
    assert decoded.validators == tuple("0x" + v.removeprefix("0x") for v in validators)
    assert (decoded.vanity, decoded.has_vote, decoded.round, decoded.seals) == (bytes(32), False, 0, 0)
    assert consortium.encode_extra_data(decoded.validators) == extra


def test_contract_selection_extra_data_names_no_validator() -> None:
    assert consortium.decode_extra_data(DOCS_CONTRACT_SELECTION).validators == ()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (BESU_IBFT_OUTPUT, "IBFT 2.0"),
        ("0xzz", "not RLP"),
        ("0xc0", "list of five"),
        ("0x" + "e6a1" + "00" * 33 + "c0c080c0", "32 bytes"),
    ],
)
def test_decode_refuses_what_is_not_qbft_genesis_extra_data(text: str, reason: str) -> None:
    with pytest.raises(consortium.ExtraDataError, match=reason):
        consortium.decode_extra_data(text)


@pytest.mark.parametrize(
    ("validators", "reason"),
    [([], "at least one"), (["0x12"], "not an address"), ([DOCS_VALIDATORS[0]] * 2, "twice")],
)
def test_encode_refuses_bad_validator_lists(validators: list[str], reason: str) -> None:
    with pytest.raises(consortium.ExtraDataError, match=reason):
        consortium.encode_extra_data(validators)


def test_genesis_for_four_validators_has_what_besu_requires() -> None:
    params = consortium.QbftParams(chain_id=1337, block_period=2)
    doc = consortium.qbft_genesis(params, DOCS_VALIDATORS, {TUTORIAL_ADDRESS: 5})
    json.dumps(doc)  # a JSON document as it stands
    config = doc["config"]
    assert config["chainId"] == 1337
    assert config["qbft"] == {"blockperiodseconds": 2, "epochlength": 30_000, "requesttimeoutseconds": 4}
    # Free gas (Besu's free gas page): zero base fee from genesis on, London and later.
    assert config["zeroBaseFee"] is True
    assert doc["baseFeePerGas"] == "0x0"
    assert config["londonBlock"] == 0
    # The contracts use PUSH0 (Shanghai) and MCOPY (Cancun): both on from the first block.
    assert (config["shanghaiTime"], config["cancunTime"]) == (0, 0)
    # The constants Besu's QBFT page requires.
    assert doc["difficulty"] == "0x1"
    assert doc["mixHash"] == "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
    assert int(doc["gasLimit"], 16) >= 5_000_000
    assert doc["alloc"] == {TUTORIAL_ADDRESS[2:]: {"balance": "0x5"}}
    # The validators, in ascending order, as the page asks of the list it encodes.
    decoded = consortium.decode_extra_data(doc["extraData"])
    assert list(decoded.validators) == sorted(DOCS_VALIDATORS)
    assert doc["extraData"] == consortium.encode_extra_data(sorted(DOCS_VALIDATORS))


@pytest.mark.parametrize(
    ("kwargs", "setting"),
    [
        ({"chain_id": 0}, "chain_id"),
        ({"chain_id": 2**53}, "chain_id"),
        ({"chain_id": 1, "block_period": 0}, "block_period"),
        ({"chain_id": 1, "block_period": 61}, "block_period"),
        ({"chain_id": 1, "epoch_length": 0}, "epoch_length"),
        ({"chain_id": 1, "gas_limit": 21_000}, "gas_limit"),
    ],
)
def test_out_of_range_settings_are_refused(kwargs: dict[str, int], setting: str) -> None:
    with pytest.raises(consortium.ConsortiumError) as caught:
        consortium.QbftParams(**kwargs)
    assert caught.value.setting == setting


@pytest.mark.parametrize("count", [0, consortium.MAX_VALIDATORS + 1])
def test_validator_count_out_of_range_is_refused(count: int) -> None:
    with pytest.raises(consortium.ConsortiumError, match="validators") as caught:
        consortium.check_validator_count(count)
    assert caught.value.setting == "validators"


def test_node_key_is_besus_address_and_enode() -> None:
    key = consortium.NodeKey.from_private_key(TUTORIAL_KEY)
    assert key.address.lower() == TUTORIAL_ADDRESS
    assert len(key.public_key) == 64
    assert key.enode("10.0.0.1") == f"enode://{key.public_key.hex()}@10.0.0.1:30303"
    assert TUTORIAL_KEY.hex() not in repr(key)


def test_key_files_are_private_one_line_and_never_replaced(tmp_path: Path) -> None:
    key = consortium.NodeKey.create()
    path = consortium.write_key_files(key, tmp_path / "validator-1")
    # Besu reads exactly one line of 0x hex from `key`.
    assert path.read_text(encoding="ascii").splitlines() == ["0x" + key.private_key.hex()]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (path.parent / "key.pub").read_text(encoding="ascii") == "0x" + key.node_id
    with pytest.raises(consortium.NodeKeyError, match="cannot write"):
        consortium.write_key_files(consortium.NodeKey.create(), tmp_path / "validator-1")
    assert path.read_text(encoding="ascii") == "0x" + key.private_key.hex()


def _opcodes(code: bytes) -> set[int]:
    """The opcodes of ``code``, PUSH data skipped (the metadata trailer is left off first)."""
    code = code[: -(int.from_bytes(code[-2:], "big") + 2)]
    found, at = set(), 0
    while at < len(code):
        op = code[at]
        found.add(op)
        at += 1 + (op - 0x5F if 0x60 <= op <= 0x7F else 0)
    return found


def test_contracts_fit_besus_default_limits_and_need_nothing_after_cancun() -> None:
    """Why the genesis sets no contractSizeLimit and stops at Cancun (CONSORTIUM.md)."""
    artifacts = sorted(ARTIFACTS_DIR.glob("*.json"))
    assert artifacts
    for path in artifacts:
        doc = json.loads(path.read_text(encoding="utf-8"))
        runtime, initcode = bytes.fromhex(doc["deployedBytecode"][2:]), bytes.fromhex(doc["bytecode"][2:])
        assert len(runtime) <= CONTRACT_SIZE_LIMIT, path.name
        assert len(initcode) <= INITCODE_SIZE_LIMIT, path.name
        assert 0x1E not in _opcodes(runtime), f"{path.name} uses CLZ (Osaka): the genesis needs osakaTime"
