// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {DepartmentRegistry} from "./DepartmentRegistry.sol";

/// @title CredentialRegistry
/// @notice Active issuing departments anchor credential hashes (or Merkle roots of batches)
///         with a validity window; the issuer can revoke a whole root or single credentials.
/// @dev Merkle nodes are keccak256 of the sorted pair (as OpenZeppelin's MerkleProof); a
///      single credential is its own root with an empty proof. Only hashes are stored.
///      A single credential is revoked by its hash, without a proof: the revocation is kept
///      under the revoking account, and a credential's status reads only the revocations of
///      the department that anchored its root. So anyone may call `revokeCredential`, but a
///      revocation by anyone else than the anchoring issuer changes no credential's status.
contract CredentialRegistry is DepartmentRegistry {
    /// @dev One slot per root: issuing is one fresh SSTORE, revoking rewrites the same slot.
    struct Anchor {
        uint32 issuerId;
        uint40 issuedAt;
        uint40 validFrom;
        uint40 validUntil;
        uint40 revokedAt;
    }

    mapping(bytes32 root => Anchor) private _anchors;
    // Keyed by the revoking account, so a department can only ever revoke its own credentials:
    // `credentialStatus` reads the revocations of the root's issuer, nobody else's. A
    // department's address never changes (addDepartment refuses a registered account).
    // _accounts[0] is never set (ids start at 1), so an unknown root reads as issuer 0x0,
    // whose revocations no transaction can write.
    mapping(address issuer => mapping(bytes32 credentialHash => uint40 revokedAt)) private _revocations;

    /// @notice `root` was anchored. Anonymous, so the root itself is topic 0: a verifier asks
    ///         the node for logs of this contract whose first topic is the root. Every other
    ///         event here has a signature topic and at least one indexed argument, so a log
    ///         from this contract with exactly one topic is always this one.
    /// @dev Issuer, times and window are not repeated here: `rootStatus` returns them from
    ///      the anchor slot. Anonymous LOG1 costs 375 gas less than LOG2, which is what
    ///      keeps `issue` within its 47,500 gas budget (see bench/GAS.md).
    event CredentialIssued(bytes32 indexed root) anonymous;
    event CredentialRevoked(bytes32 indexed root, address indexed issuer);
    /// @notice `issuer` revoked the credential whose hash (Merkle leaf) is `credentialHash`.
    ///         It counts only where `issuer` anchored the credential's root: a verifier filters
    ///         on both topics (the root's issuer from `rootStatus`).
    event CredentialHashRevoked(bytes32 indexed credentialHash, address indexed issuer);

    error NotIssuer(address account);
    error ZeroRoot();
    error InvalidWindow(uint40 validFrom, uint40 validUntil);
    error AlreadyIssued(bytes32 root);
    error UnknownRoot(bytes32 root);
    error NotRootIssuer(bytes32 root, address account);
    error AlreadyRevoked(bytes32 root);

    // Bit layout of the packed structs, for the assembly hot paths (Solidity packs struct
    // members from the low-order end). Tests check these against the struct-based views.
    uint256 private constant _ACTIVE_ISSUER = (1 << 40) | (uint256(ROLE_ISSUER) << 32);
    uint256 private constant _REVOKED_AT_SHIFT = 152;

    constructor(address admin_) DepartmentRegistry(admin_) {}

    /// @notice Anchors `root`, valid in [validFrom, validUntil) (unix seconds).
    /// @dev The hot path: one cold SLOAD (caller's department), one fresh SSTORE, one LOG1.
    ///      Packing is written in assembly because the struct-in-memory route costs ~1,000
    ///      gas more (see bench/GAS.md).
    function issue(bytes32 root, uint40 validFrom, uint40 validUntil) external {
        if (root == bytes32(0)) revert ZeroRoot();
        if (validUntil <= validFrom) revert InvalidWindow(validFrom, validUntil);
        uint256 dept = _departmentWord(msg.sender);
        if (dept & _ACTIVE_ISSUER != _ACTIVE_ISSUER) revert NotIssuer(msg.sender);
        (uint256 slot, uint256 anchor) = _anchorWord(root);
        if (anchor != 0) revert AlreadyIssued(root);
        assembly ("memory-safe") {
            sstore(
                slot,
                or(
                    or(and(dept, 0xffffffff), shl(32, and(timestamp(), 0xffffffffff))),
                    or(shl(72, validFrom), shl(112, validUntil))
                )
            )
        }
        emit CredentialIssued(root);
    }

    /// @notice Revokes a whole root; only its issuing department, even if since deactivated.
    function revoke(bytes32 root) external {
        (uint256 slot, uint256 anchor) = _anchorWord(root);
        uint256 issuerId = anchor & 0xffffffff;
        if (issuerId == 0) revert UnknownRoot(root);
        if (_departmentWord(msg.sender) & 0xffffffff != issuerId) {
            revert NotRootIssuer(root, msg.sender);
        }
        if (anchor >> _REVOKED_AT_SHIFT != 0) revert AlreadyRevoked(root);
        bytes32 topic = CredentialRevoked.selector;
        assembly ("memory-safe") {
            sstore(slot, or(anchor, shl(_REVOKED_AT_SHIFT, and(timestamp(), 0xffffffffff))))
            log3(0x00, 0x00, topic, root, caller())
        }
    }

    /// @notice Revokes one credential, named by its hash (the Merkle leaf), whatever the size
    ///         of its batch: no proof, no lookup of the batch.
    /// @dev Takes no department check: the revocation is stored under `msg.sender` and only
    ///      counts for credentials `msg.sender` anchored (see `credentialStatus`), so a
    ///      department may revoke after it is deactivated or loses the issuer role, as `revoke`
    ///      allows, and a stranger's call changes nothing anyone reads. The cost is one cold
    ///      fresh slot (22,100) and a LOG3 (1,500): 21,000 + calldata + those, at any batch size.
    function revokeCredential(bytes32 credentialHash) external {
        bytes32 topic = CredentialHashRevoked.selector;
        bytes4 already = AlreadyRevoked.selector;
        assembly ("memory-safe") {
            mstore(0x00, caller())
            mstore(0x20, _revocations.slot)
            mstore(0x20, keccak256(0x00, 0x40))
            mstore(0x00, credentialHash)
            let slot := keccak256(0x00, 0x40)
            if sload(slot) {
                mstore(0x00, already)
                mstore(0x04, credentialHash)
                revert(0x00, 0x24)
            }
            sstore(slot, and(timestamp(), 0xffffffffff))
            log3(0x00, 0x00, topic, credentialHash, caller())
        }
    }

    /// @notice When `issuer` revoked the credential hashed `credentialHash` (0: it did not).
    function credentialRevokedAt(address issuer, bytes32 credentialHash) external view returns (uint40) {
        return _revocations[issuer][credentialHash];
    }

    /// @notice The anchor of `root`; `issuer` is the zero address if it was never anchored.
    function rootStatus(bytes32 root)
        external
        view
        returns (address issuer, uint40 issuedAt, uint40 validFrom, uint40 validUntil, uint40 revokedAt)
    {
        Anchor memory a = _anchors[root];
        return (_accounts[a.issuerId], a.issuedAt, a.validFrom, a.validUntil, a.revokedAt);
    }

    /// @notice Status of a credential given its hash and Merkle proof (empty for a lone root);
    ///         `revokedAt` is the earlier of the root's revocation and the anchoring issuer's
    ///         revocation of the credential's hash (0 if neither).
    function credentialStatus(bytes32 leaf, bytes32[] calldata proof)
        external
        view
        returns (
            bytes32 root,
            address issuer,
            uint40 issuedAt,
            uint40 validFrom,
            uint40 validUntil,
            uint40 revokedAt
        )
    {
        root = _processProof(leaf, proof);
        Anchor memory a = _anchors[root];
        issuer = _accounts[a.issuerId];
        revokedAt = _revocations[issuer][leaf];
        if (revokedAt == 0 || (a.revokedAt != 0 && a.revokedAt < revokedAt)) revokedAt = a.revokedAt;
        return (root, issuer, a.issuedAt, a.validFrom, a.validUntil, revokedAt);
    }

    function _anchorWord(bytes32 root) private view returns (uint256 slot, uint256 word) {
        assembly ("memory-safe") {
            mstore(0x00, root)
            mstore(0x20, _anchors.slot)
            slot := keccak256(0x00, 0x40)
            word := sload(slot)
        }
    }

    function _departmentWord(address account) private view returns (uint256 word) {
        assembly ("memory-safe") {
            mstore(0x00, account)
            mstore(0x20, _departments.slot)
            word := sload(keccak256(0x00, 0x40))
        }
    }

    function _processProof(bytes32 leaf, bytes32[] calldata proof) private pure returns (bytes32 h) {
        h = leaf;
        for (uint256 i; i < proof.length; ++i) {
            bytes32 p = proof[i];
            // Sorted pair: order-free proofs, same as OpenZeppelin's MerkleProof.
            assembly ("memory-safe") {
                switch lt(h, p)
                case 1 { mstore(0x00, h) mstore(0x20, p) }
                default { mstore(0x00, p) mstore(0x20, h) }
                h := keccak256(0x00, 0x40)
            }
        }
    }
}
