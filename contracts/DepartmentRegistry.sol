// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title DepartmentRegistry
/// @notice Governance admin registers government departments (by address) and their roles.
/// @dev Holds no personal data: a department is an address, a bytes32 code and a role bitmask.
abstract contract DepartmentRegistry {
    uint8 public constant ROLE_ISSUER = 1;
    uint8 public constant ROLE_VERIFIER = 2;
    uint8 public constant ROLE_REGISTRAR = 4;
    uint8 public constant ROLE_DATA_USER = 8;

    /// @dev One slot, so the issuer check in `issue` costs a single SLOAD.
    struct Department {
        uint32 id;
        uint8 roles;
        bool active;
        uint40 changedAt;
    }

    // Admin and the id counter share a slot: adding a department touches one slot, not two.
    address private _admin;
    uint32 private _lastDepartmentId;

    mapping(address account => Department) internal _departments;
    mapping(address account => bytes32) private _codes;
    mapping(uint32 id => address) internal _accounts;

    event AdminTransferred(address indexed previousAdmin, address indexed newAdmin);
    event DepartmentAdded(address indexed account, uint32 indexed id, bytes32 code, uint8 roles);
    event DepartmentRolesChanged(address indexed account, uint8 roles);
    event DepartmentDeactivated(address indexed account);
    event DepartmentReactivated(address indexed account);

    error NotAdmin(address caller);
    error ZeroAddress();
    error DepartmentExists(address account);
    error UnknownDepartment(address account);
    error DepartmentInactive(address account);
    error DepartmentAlreadyActive(address account);

    modifier onlyAdmin() {
        if (msg.sender != _admin) revert NotAdmin(msg.sender);
        _;
    }

    constructor(address admin_) {
        if (admin_ == address(0)) revert ZeroAddress();
        _admin = admin_;
        emit AdminTransferred(address(0), admin_);
    }

    /// @notice The governance admin.
    function admin() external view returns (address) {
        return _admin;
    }

    /// @notice Hands governance to `newAdmin` (e.g. a multisig); takes effect at once.
    function transferAdmin(address newAdmin) external onlyAdmin {
        if (newAdmin == address(0)) revert ZeroAddress();
        emit AdminTransferred(msg.sender, newAdmin);
        _admin = newAdmin;
    }

    /// @notice Registers `account` as an active department with the next sequential id.
    function addDepartment(address account, bytes32 code, uint8 roles) external onlyAdmin {
        if (account == address(0)) revert ZeroAddress();
        if (_departments[account].id != 0) revert DepartmentExists(account);
        uint32 id = ++_lastDepartmentId;
        _departments[account] = Department(id, roles, true, uint40(block.timestamp));
        _codes[account] = code;
        _accounts[id] = account;
        emit DepartmentAdded(account, id, code, roles);
    }

    /// @notice Replaces the role bitmask of a (possibly inactive) department.
    function setRoles(address account, uint8 roles) external onlyAdmin {
        Department storage d = _known(account);
        d.roles = roles;
        d.changedAt = uint40(block.timestamp);
        emit DepartmentRolesChanged(account, roles);
    }

    /// @notice Suspends every role of a department; it can still revoke what it issued.
    function deactivateDepartment(address account) external onlyAdmin {
        Department storage d = _known(account);
        if (!d.active) revert DepartmentInactive(account);
        d.active = false;
        d.changedAt = uint40(block.timestamp);
        emit DepartmentDeactivated(account);
    }

    /// @notice Restores a deactivated department with the roles it had.
    function reactivateDepartment(address account) external onlyAdmin {
        Department storage d = _known(account);
        if (d.active) revert DepartmentAlreadyActive(account);
        d.active = true;
        d.changedAt = uint40(block.timestamp);
        emit DepartmentReactivated(account);
    }

    /// @notice A department's record; all zeros if `account` was never registered.
    function department(address account)
        external
        view
        returns (uint32 id, bytes32 code, uint8 roles, bool active, uint40 changedAt)
    {
        Department memory d = _departments[account];
        return (d.id, _codes[account], d.roles, d.active, d.changedAt);
    }

    /// @notice The account registered under `id`, or the zero address.
    function departmentById(uint32 id) external view returns (address) {
        return _accounts[id];
    }

    /// @notice True if `account` is an active department holding every bit of `role` (non-zero).
    function hasRole(address account, uint8 role) external view returns (bool) {
        Department memory d = _departments[account];
        return role != 0 && d.active && (d.roles & role) == role;
    }

    function _known(address account) private view returns (Department storage d) {
        d = _departments[account];
        if (d.id == 0) revert UnknownDepartment(account);
    }
}
