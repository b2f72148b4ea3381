// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title AuditAnchor
/// @notice Anchors the signed tree heads of the vault's access log (an RFC 9162 Merkle tree):
///         tree size and root hash, nothing else. Auditors compare the log against these heads
///         and check consistency proofs between consecutive ones.
/// @dev Storage holds only the latest head; the history is the `TreeHeadAnchored` log. The
///      constructor anchors the empty tree (size 0, SHA-256 of nothing), so every anchor after
///      it rewrites two non-zero slots instead of filling fresh ones: the cost is the same for
///      the first head and the millionth, whatever the number of entries a head covers.
contract AuditAnchor {
    /// @dev RFC 9162's root of the empty tree: SHA-256("").
    bytes32 public constant EMPTY_ROOT = 0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855;

    /// @notice The account that anchors (the vault's operator); set once, at deployment.
    address public immutable logger;

    // Slot 0: tree size (low 64 bits) | anchoredAt (next 40 bits). Slot 1: the root.
    uint256 private _head;
    bytes32 private _root;

    event TreeHeadAnchored(uint64 indexed treeSize, bytes32 root);

    error NotLogger(address caller);
    error ZeroAddress();
    error NotGrowing(uint64 previousSize, uint64 treeSize);
    error EmptyRootForNonEmptyTree();

    constructor(address logger_) {
        if (logger_ == address(0)) revert ZeroAddress();
        logger = logger_;
        _head = uint256(block.timestamp) << 64;
        _root = EMPTY_ROOT;
        emit TreeHeadAnchored(0, EMPTY_ROOT);
    }

    /// @notice Anchors the head of a larger tree. Sizes only grow: a log is append-only.
    function anchor(uint64 treeSize, bytes32 root) external {
        if (msg.sender != logger) revert NotLogger(msg.sender);
        uint64 previous = uint64(_head);
        if (treeSize <= previous) revert NotGrowing(previous, treeSize);
        if (root == EMPTY_ROOT || root == bytes32(0)) revert EmptyRootForNonEmptyTree();
        _head = uint256(treeSize) | (uint256(uint40(block.timestamp)) << 64);
        _root = root;
        emit TreeHeadAnchored(treeSize, root);
    }

    /// @notice The latest anchored head.
    function latest() external view returns (uint64 treeSize, bytes32 root, uint40 anchoredAt) {
        uint256 head = _head;
        return (uint64(head), _root, uint40(head >> 64));
    }
}
