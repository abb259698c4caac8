// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IParticipationToken} from "./IParticipationToken.sol";
import {StaffAccess} from "./StaffAccess.sol";

/// @title ParticipationToken
/// @notice Whole participation points (0 decimals) earned through ESG actions. Not a free market:
/// residents cannot send points to each other; only the ledger contracts mint, burn and move them.
contract ParticipationToken is ERC20, Pausable, StaffAccess, IParticipationToken {
    /// @notice Holders may mint (the ledger contracts that reward actions).
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");
    /// @notice Holders may burn residents' points (claw-back, redemption by burn).
    bytes32 public constant BURNER_ROLE = keccak256("BURNER_ROLE");
    /// @notice Holders may move points between holders (redemption, donation).
    bytes32 public constant MOVER_ROLE = keccak256("MOVER_ROLE");
    /// @notice Holders may pause and unpause the token.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @param name_ The token's name, for example "Suwon Participation Point".
    /// @param symbol_ The token's symbol.
    /// @param admin The account that receives DEFAULT_ADMIN_ROLE and PAUSER_ROLE.
    /// @param trustedForwarder_ The {StaffForwarder} through which staff act as themselves (address(0): none).
    constructor(string memory name_, string memory symbol_, address admin, address trustedForwarder_)
        ERC20(name_, symbol_)
        StaffAccess(trustedForwarder_)
    {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
    }

    /// @notice Points are whole: 0 decimals.
    function decimals() public pure override returns (uint8) {
        return 0;
    }

    /// @inheritdoc IParticipationToken
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }

    /// @inheritdoc IParticipationToken
    function mintBatch(address[] calldata recipients, uint256[] calldata amounts) external onlyRole(MINTER_ROLE) {
        uint256 n = recipients.length;
        if (n != amounts.length) revert ParticipationTokenLengthMismatch(n, amounts.length);
        // One pause check for the whole batch, then ERC20's own _update per mint: what {_update} below
        // adds (the pause check, and the transfer restriction, which never applies to a mint) is done.
        _requireNotPaused();
        for (uint256 i; i < n; ++i) {
            address to = recipients[i];
            if (to == address(0)) revert ERC20InvalidReceiver(address(0));
            ERC20._update(address(0), to, amounts[i]);
        }
    }

    /// @inheritdoc IParticipationToken
    function burnFrom(address from, uint256 amount) external onlyRole(BURNER_ROLE) {
        _burn(from, amount);
    }

    /// @inheritdoc IParticipationToken
    function move(address from, address to, uint256 amount) external onlyRole(MOVER_ROLE) {
        // ERC20's _transfer minus a second look at the caller's role in {_update} below (the modifier
        // checked it): on the redemption and donation paths that look was an ERC-2771 `_msgSender()`
        // and a role read per entry.
        if (from == address(0)) revert ERC20InvalidSender(address(0));
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        _requireNotPaused();
        ERC20._update(from, to, amount);
    }

    /// @inheritdoc IParticipationToken
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc IParticipationToken
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    /// @dev Every balance change stops while paused. Holder-to-holder transfers (ERC-20 `transfer` /
    /// `transferFrom`) need the mover role.
    function _update(address from, address to, uint256 value) internal override {
        _requireNotPaused();
        if (from != address(0) && to != address(0) && !hasRole(MOVER_ROLE, _msgSender())) {
            revert ParticipationTokenTransferRestricted(from, to);
        }
        super._update(from, to, value);
    }

    /// @dev ERC-2771 (see {StaffAccess}): a pause by a staff member through the forwarder names them.
    function _msgSender() internal view override(Context, StaffAccess) returns (address) {
        return StaffAccess._msgSender();
    }

    function _msgData() internal view override(Context, StaffAccess) returns (bytes calldata) {
        return StaffAccess._msgData();
    }

    function _contextSuffixLength() internal view override(Context, StaffAccess) returns (uint256) {
        return StaffAccess._contextSuffixLength();
    }
}
