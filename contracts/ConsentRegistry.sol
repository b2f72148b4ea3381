// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @dev The part of the department registry (CredentialRegistry) that consent needs.
interface IDepartmentRoles {
    function hasRole(address account, uint8 role) external view returns (bool);
}

/// @title ConsentRegistry
/// @notice Subjects' signed grants of access (授权) to departments, their revocations, the
///         binding of pseudonymous subject ids to keys, and delegations to agents (经办人)
///         and guardians. Anyone may relay a signed message; the signature decides.
/// @dev Signatures are standard EIP-712 (eth_signTypedData_v4) over the types below, in
///      EIP-2098 compact form (r, vs). Strings and string arrays of the typed data arrive as
///      their EIP-712 encodings (keccak256 of the text; keccak256 of the concatenated element
///      hashes), so wallets show the text while the chain stores none of it.
///      Times are uint32 Unix seconds (valid until 2106) so that a grant fits in one slot.
contract ConsentRegistry {
    uint8 private constant ROLE_REGISTRAR = 4;
    uint8 private constant ROLE_DATA_USER = 8;
    /// @notice Record-type bits: licence 1, certificate 2, data item 4.
    uint8 private constant ALL_RECORD_TYPES = 7;

    struct GrantTerms {
        bytes32 subject;
        address grantee;
        uint8 recordTypes;
        bytes32 fieldsHash;
        uint16 purposeCode;
        bytes32 purposeHash;
        uint32 notBefore;
        uint32 expiresAt;
        uint32 maxUses;
        uint64 nonce;
    }

    struct DelegationTerms {
        bytes32 subject;
        address agent;
        uint8 recordTypes;
        uint32 notBefore;
        uint32 expiresAt;
        uint64 nonce;
    }

    /// @dev One slot: relaying a grant writes one fresh slot, revoking rewrites it.
    struct Grant {
        address grantee;
        uint32 notBefore;
        uint32 expiresAt;
        uint32 revokedAt;
    }

    struct SubjectKey {
        address key;
        uint32 version;
        uint40 since;
    }

    struct Delegation {
        uint8 recordTypes;
        bool guardian;
        uint32 notBefore;
        uint32 expiresAt;
        uint32 revokedAt;
        uint64 nonce;
    }

    bytes32 private constant GRANT_TYPEHASH = keccak256(
        "Grant(bytes32 subject,address grantee,uint8 recordTypes,string[] fields,uint16 purposeCode,"
        "string purpose,uint32 notBefore,uint32 expiresAt,uint32 maxUses,uint64 nonce)"
    );
    bytes32 private constant REVOCATION_TYPEHASH = keccak256("Revocation(bytes32 subject,uint64 grantNonce)");
    bytes32 private constant DELEGATION_TYPEHASH = keccak256(
        "Delegation(bytes32 subject,address agent,uint8 recordTypes,uint32 notBefore,uint32 expiresAt,uint64 nonce)"
    );
    bytes32 private constant DELEGATION_REVOCATION_TYPEHASH =
        keccak256("DelegationRevocation(bytes32 subject,address agent,uint64 delegationNonce)");
    bytes32 private constant _DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant _NAME_HASH = keccak256("DataVault Consent");
    bytes32 private constant _VERSION_HASH = keccak256("1");
    // secp256k1n / 2: a higher s is the malleable twin of a valid signature.
    uint256 private constant _HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    // Bit offset of Grant.revokedAt in its slot (grantee 160 + notBefore 32 + expiresAt 32);
    // a test checks it against the struct-based view.
    uint256 private constant _REVOKED_AT_SHIFT = 224;

    IDepartmentRoles public immutable departments;
    uint256 private immutable _chainId;
    bytes32 private immutable _domainSeparator;

    mapping(bytes32 grantId => Grant) private _grants;
    mapping(bytes32 subject => SubjectKey) private _subjects;
    mapping(bytes32 subject => mapping(address agent => Delegation)) private _delegations;
    mapping(bytes32 subjectNonce => bool) private _delegationNonces;

    event SubjectKeyBound(bytes32 indexed subject, address indexed key, uint32 version);
    event GrantCreated(
        bytes32 indexed grantId, bytes32 indexed subject, address indexed grantee, bytes32 digest, address signer
    );
    /// @dev Anonymous, with the grant id as its only topic: the signature topic would cost 375
    ///      gas on every revocation. Every other event here has a signature topic and indexed
    ///      arguments, so a one-topic log of this contract is always a revocation. The signer
    ///      is not logged: anyone recovers it from the transaction's calldata.
    event GrantRevoked(bytes32 indexed grantId) anonymous;
    event DelegationSet(
        bytes32 indexed subject,
        address indexed agent,
        uint8 recordTypes,
        uint32 notBefore,
        uint32 expiresAt,
        uint64 nonce,
        bool guardian
    );
    event DelegationRevoked(bytes32 indexed subject, address indexed agent, address signer);

    error ZeroValue();
    error NotRegistrar(address account);
    error NotDataUser(address grantee);
    error UnknownSubject(bytes32 subject);
    error SubjectAlreadyBound(bytes32 subject);
    error SameKey(bytes32 subject);
    error InvalidSignature();
    error NotAuthorised(bytes32 subject, address signer);
    error OutsideDelegation(bytes32 subject, address signer);
    error InvalidScope(uint8 recordTypes);
    error InvalidWindow(uint32 notBefore, uint32 expiresAt);
    error InvalidMaxUses();
    error NonceUsed(bytes32 subject, uint64 nonce);
    error UnknownGrant(bytes32 grantId);
    error GrantAlreadyRevoked(bytes32 grantId);
    error UnknownDelegation(bytes32 subject, address agent);
    error DelegationAlreadyRevoked(bytes32 subject, address agent);

    constructor(IDepartmentRoles departments_) {
        if (address(departments_) == address(0)) revert ZeroValue();
        departments = departments_;
        _chainId = block.chainid;
        _domainSeparator = _buildDomainSeparator();
    }

    modifier onlyRegistrar() {
        if (!departments.hasRole(msg.sender, ROLE_REGISTRAR)) revert NotRegistrar(msg.sender);
        _;
    }

    // -- subject keys (the identity authority, a registrar department) -------------------------

    /// @notice Binds a pseudonymous subject id to the key that signs for it.
    function bindSubject(bytes32 subject, address key) external onlyRegistrar {
        if (subject == bytes32(0) || key == address(0)) revert ZeroValue();
        if (_subjects[subject].key != address(0)) revert SubjectAlreadyBound(subject);
        _subjects[subject] = SubjectKey(key, 1, uint40(block.timestamp));
        emit SubjectKeyBound(subject, key, 1);
    }

    /// @notice Replaces a subject's key: the old key signs nothing from now on; grants and
    ///         delegations it signed before stay as they are.
    function rotateSubjectKey(bytes32 subject, address newKey) external onlyRegistrar {
        SubjectKey memory k = _subjects[subject];
        if (k.key == address(0)) revert UnknownSubject(subject);
        if (newKey == address(0)) revert ZeroValue();
        if (newKey == k.key) revert SameKey(subject);
        uint32 version = k.version + 1;
        _subjects[subject] = SubjectKey(newKey, version, uint40(block.timestamp));
        emit SubjectKeyBound(subject, newKey, version);
    }

    // -- grants --------------------------------------------------------------------------------

    /// @notice Records a grant signed by the subject's key or by a delegate acting within its
    ///         delegation. Takes effect once mined; the grant id is keccak256(subject, nonce).
    function grant(GrantTerms calldata t, bytes32 r, bytes32 vs) external returns (bytes32 id) {
        if (t.recordTypes == 0 || t.recordTypes & ~ALL_RECORD_TYPES != 0) revert InvalidScope(t.recordTypes);
        if (t.expiresAt <= t.notBefore || t.expiresAt <= block.timestamp) {
            revert InvalidWindow(t.notBefore, t.expiresAt);
        }
        if (t.maxUses == 0) revert InvalidMaxUses();
        id = grantIdOf(t.subject, t.nonce);
        Grant storage g = _grants[id];
        if (g.grantee != address(0)) revert NonceUsed(t.subject, t.nonce);
        if (!departments.hasRole(t.grantee, ROLE_DATA_USER)) revert NotDataUser(t.grantee);
        bytes32 digest = _digest(_grantStructHash(t));
        address signer = _recover(digest, r, vs);
        _authorise(t.subject, signer, t.recordTypes, t.expiresAt);
        g.grantee = t.grantee;
        g.notBefore = t.notBefore;
        g.expiresAt = t.expiresAt;
        emit GrantCreated(id, t.subject, t.grantee, digest, signer);
    }

    /// @notice Revokes a grant; signed by the subject's key or any active delegate or guardian
    ///         (withdrawing consent is always within an agent's remit).
    function revokeGrant(bytes32 subject, uint64 grantNonce, bytes32 r, bytes32 vs) external {
        bytes32 id = grantIdOf(subject, grantNonce);
        (uint256 slot, uint256 word) = _grantWord(id);
        if (word == 0) revert UnknownGrant(id);
        if (word >> _REVOKED_AT_SHIFT != 0) revert GrantAlreadyRevoked(id);
        bytes32 structHash;
        bytes32 typehash = REVOCATION_TYPEHASH;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, typehash)
            mstore(add(p, 0x20), subject)
            mstore(add(p, 0x40), grantNonce)
            structHash := keccak256(p, 0x60)
        }
        _authorise(subject, _recover(_digest(structHash), r, vs), 0, 0);
        // One read and one write of the grant's slot: revokedAt is its top 32 bits.
        assembly ("memory-safe") {
            sstore(slot, or(word, shl(_REVOKED_AT_SHIFT, and(timestamp(), 0xffffffff))))
        }
        emit GrantRevoked(id);
    }

    // -- delegations ---------------------------------------------------------------------------

    /// @notice An agent (经办人) may sign for the subject within `recordTypes` and the window.
    ///         Only the subject's own key (an enterprise's legal representative) delegates.
    function delegate(DelegationTerms calldata t, bytes32 r, bytes32 vs) external {
        if (t.recordTypes == 0 || t.recordTypes & ~ALL_RECORD_TYPES != 0) revert InvalidScope(t.recordTypes);
        if (t.expiresAt <= t.notBefore || t.expiresAt <= block.timestamp) {
            revert InvalidWindow(t.notBefore, t.expiresAt);
        }
        bytes32 nonceKey = grantIdOf(t.subject, t.nonce);
        if (_delegationNonces[nonceKey]) revert NonceUsed(t.subject, t.nonce);
        bytes32 structHash = keccak256(
            abi.encode(DELEGATION_TYPEHASH, t.subject, t.agent, t.recordTypes, t.notBefore, t.expiresAt, t.nonce)
        );
        address signer = _recover(_digest(structHash), r, vs);
        address key = _subjects[t.subject].key;
        if (key == address(0)) revert UnknownSubject(t.subject);
        if (signer != key) revert NotAuthorised(t.subject, signer);
        if (t.agent == address(0) || t.agent == key) revert ZeroValue();
        _delegationNonces[nonceKey] = true;
        _delegations[t.subject][t.agent] = Delegation(t.recordTypes, false, t.notBefore, t.expiresAt, 0, t.nonce);
        emit DelegationSet(t.subject, t.agent, t.recordTypes, t.notBefore, t.expiresAt, t.nonce, false);
    }

    /// @notice Ends a delegation; signed by the subject's key over the delegation's nonce, so an
    ///         old revocation cannot end a later delegation of the same agent.
    function revokeDelegation(bytes32 subject, address agent, uint64 delegationNonce, bytes32 r, bytes32 vs)
        external
    {
        Delegation storage d = _delegations[subject][agent];
        if (d.expiresAt == 0 || d.guardian || d.nonce != delegationNonce) revert UnknownDelegation(subject, agent);
        if (d.revokedAt != 0) revert DelegationAlreadyRevoked(subject, agent);
        bytes32 structHash = keccak256(abi.encode(DELEGATION_REVOCATION_TYPEHASH, subject, agent, delegationNonce));
        address signer = _recover(_digest(structHash), r, vs);
        if (signer != _subjects[subject].key || signer == address(0)) revert NotAuthorised(subject, signer);
        d.revokedAt = uint32(block.timestamp);
        emit DelegationRevoked(subject, agent, signer);
    }

    /// @notice A registrar appoints a guardian who signs for a minor or an elderly subject.
    function setGuardian(bytes32 subject, address guardian, uint32 notBefore, uint32 expiresAt)
        external
        onlyRegistrar
    {
        address key = _subjects[subject].key;
        if (key == address(0)) revert UnknownSubject(subject);
        if (guardian == address(0) || guardian == key) revert ZeroValue();
        if (expiresAt <= notBefore || expiresAt <= block.timestamp) revert InvalidWindow(notBefore, expiresAt);
        _delegations[subject][guardian] = Delegation(ALL_RECORD_TYPES, true, notBefore, expiresAt, 0, 0);
        emit DelegationSet(subject, guardian, ALL_RECORD_TYPES, notBefore, expiresAt, 0, true);
    }

    function removeGuardian(bytes32 subject, address guardian) external onlyRegistrar {
        Delegation storage d = _delegations[subject][guardian];
        if (d.expiresAt == 0 || !d.guardian) revert UnknownDelegation(subject, guardian);
        if (d.revokedAt != 0) revert DelegationAlreadyRevoked(subject, guardian);
        d.revokedAt = uint32(block.timestamp);
        emit DelegationRevoked(subject, guardian, msg.sender);
    }

    // -- views ---------------------------------------------------------------------------------

    function grantIdOf(bytes32 subject, uint64 nonce) public pure returns (bytes32 id) {
        assembly ("memory-safe") {
            mstore(0x00, subject)
            mstore(0x20, nonce)
            id := keccak256(0x00, 0x40)
        }
    }

    function grantStatus(bytes32 id)
        external
        view
        returns (address grantee, uint32 notBefore, uint32 expiresAt, uint32 revokedAt)
    {
        Grant memory g = _grants[id];
        return (g.grantee, g.notBefore, g.expiresAt, g.revokedAt);
    }

    /// @notice True if the grant exists, is not revoked and is within its window now.
    function isGrantActive(bytes32 id) external view returns (bool) {
        Grant memory g = _grants[id];
        return g.grantee != address(0) && g.revokedAt == 0 && block.timestamp >= g.notBefore
            && block.timestamp < g.expiresAt;
    }

    function subjectKey(bytes32 subject) external view returns (address key, uint32 version, uint40 since) {
        SubjectKey memory k = _subjects[subject];
        return (k.key, k.version, k.since);
    }

    function delegation(bytes32 subject, address agent)
        external
        view
        returns (uint8 recordTypes, bool guardian, uint32 notBefore, uint32 expiresAt, uint32 revokedAt, uint64 nonce)
    {
        Delegation memory d = _delegations[subject][agent];
        return (d.recordTypes, d.guardian, d.notBefore, d.expiresAt, d.revokedAt, d.nonce);
    }

    /// @notice Whether `agent` may act for `subject` now over every type in `recordTypes`.
    function canActFor(bytes32 subject, address agent, uint8 recordTypes) external view returns (bool) {
        Delegation memory d = _delegations[subject][agent];
        return _delegationCovers(d, recordTypes, 0);
    }

    /// @notice The EIP-712 digest a signer signs for `t`.
    function grantDigest(GrantTerms calldata t) external view returns (bytes32) {
        return _digest(_grantStructHash(t));
    }

    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domain();
    }

    /// @notice EIP-5267: the domain, so wallets and libraries need not be told it.
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        return (hex"0f", "DataVault Consent", "1", block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    // -- internals -----------------------------------------------------------------------------

    function _authorise(bytes32 subject, address signer, uint8 recordTypes, uint32 until) private view {
        address key = _subjects[subject].key;
        if (key == address(0)) revert UnknownSubject(subject);
        if (signer == key) return;
        Delegation memory d = _delegations[subject][signer];
        if (!_delegationCovers(d, 0, 0)) revert NotAuthorised(subject, signer);
        if (!_delegationCovers(d, recordTypes, until)) revert OutsideDelegation(subject, signer);
    }

    function _delegationCovers(Delegation memory d, uint8 recordTypes, uint32 until) private view returns (bool) {
        return d.expiresAt != 0 && d.revokedAt == 0 && block.timestamp >= d.notBefore
            && block.timestamp < d.expiresAt && recordTypes & ~d.recordTypes == 0 && until <= d.expiresAt;
    }

    function _grantStructHash(GrantTerms calldata t) private pure returns (bytes32) {
        return keccak256(
            abi.encode(
                GRANT_TYPEHASH,
                t.subject,
                t.grantee,
                t.recordTypes,
                t.fieldsHash,
                t.purposeCode,
                t.purposeHash,
                t.notBefore,
                t.expiresAt,
                t.maxUses,
                t.nonce
            )
        );
    }

    function _grantWord(bytes32 id) private view returns (uint256 slot, uint256 word) {
        assembly ("memory-safe") {
            mstore(0x00, id)
            mstore(0x20, _grants.slot)
            slot := keccak256(0x00, 0x40)
            word := sload(slot)
        }
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(_DOMAIN_TYPEHASH, _NAME_HASH, _VERSION_HASH, block.chainid, address(this)));
    }

    function _domain() private view returns (bytes32) {
        // Recomputed only if the chain id changed (a fork), so a signature for one chain
        // never verifies on another.
        return block.chainid == _chainId ? _domainSeparator : _buildDomainSeparator();
    }

    function _digest(bytes32 structHash) private view returns (bytes32 d) {
        bytes32 domain = _domain();
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, hex"1901")
            mstore(add(p, 0x02), domain)
            mstore(add(p, 0x22), structHash)
            d := keccak256(p, 0x42)
        }
    }

    /// @dev EIP-2098 compact signature: the top bit of `vs` is v - 27, the rest is s.
    function _recover(bytes32 digest, bytes32 r, bytes32 vs) private view returns (address signer) {
        uint256 s = uint256(vs) & ~uint256(1 << 255);
        if (s > _HALF_ORDER) revert InvalidSignature();
        // The ecrecover precompile called directly: Solidity's wrapper copies the result
        // through fresh memory and costs a few hundred gas more on the revoke hot path.
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, digest)
            mstore(add(p, 0x20), add(shr(255, vs), 27))
            mstore(add(p, 0x40), r)
            mstore(add(p, 0x60), s)
            mstore(0x00, 0)
            pop(staticcall(gas(), 0x01, p, 0x80, 0x00, 0x20))
            signer := mload(0x00)
        }
        if (signer == address(0)) revert InvalidSignature();
    }
}
