// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {Base} from "./Base.t.sol";
import {IParticipationToken} from "../../contracts/IParticipationToken.sol";

contract ParticipationTokenTest is Base {
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal minter = makeAddr("minter");

    function setUp() public override {
        super.setUp();
        vm.startPrank(admin);
        token.grantRole(token.MINTER_ROLE(), minter);
        token.grantRole(token.BURNER_ROLE(), minter);
        token.grantRole(token.MOVER_ROLE(), minter);
        vm.stopPrank();
    }

    function test_metadata() public view {
        assertEq(token.decimals(), 0);
        assertEq(token.symbol(), "SPP");
        assertTrue(token.hasRole(token.PAUSER_ROLE(), admin));
    }

    function test_mint_burn_move() public {
        vm.startPrank(minter);
        token.mint(alice, 10);
        token.move(alice, bob, 4);
        token.burnFrom(bob, 1);
        vm.stopPrank();
        assertEq(token.balanceOf(alice), 6);
        assertEq(token.balanceOf(bob), 3);
        assertEq(token.totalSupply(), 9);
    }

    /// @dev `move` skips ERC20's `_transfer` (and the role look-up in `_update`): it keeps its checks.
    function test_move_refusesZeroAddressesAndOverdraft() public {
        vm.startPrank(minter);
        token.mint(alice, 10);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InvalidSender.selector, address(0)));
        token.move(address(0), bob, 1);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InvalidReceiver.selector, address(0)));
        token.move(alice, address(0), 1);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, 10, 11));
        token.move(alice, bob, 11);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(alice, bob, 10);
        token.move(alice, bob, 10);
        vm.stopPrank();
        assertEq(token.totalSupply(), 10);
    }

    function test_mintBatch() public {
        address[] memory r = new address[](2);
        uint256[] memory a = new uint256[](2);
        (r[0], r[1], a[0], a[1]) = (alice, bob, 3, 4);
        vm.prank(minter);
        token.mintBatch(r, a);
        assertEq(token.balanceOf(bob), 4);
        assertEq(token.totalSupply(), 7);
        vm.prank(minter);
        vm.expectRevert(abi.encodeWithSelector(IParticipationToken.ParticipationTokenLengthMismatch.selector, 2, 1));
        token.mintBatch(r, new uint256[](1));
        r[1] = address(0);
        vm.prank(minter);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InvalidReceiver.selector, address(0)));
        token.mintBatch(r, a);
    }

    function test_holderTransfersRestricted() public {
        vm.prank(minter);
        token.mint(alice, 10);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IParticipationToken.ParticipationTokenTransferRestricted.selector, alice, bob));
        token.transfer(bob, 1);
        vm.prank(alice);
        token.approve(bob, 5);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IParticipationToken.ParticipationTokenTransferRestricted.selector, alice, bob));
        token.transferFrom(alice, bob, 1);
    }

    function test_pause_stopsEverything() public {
        vm.prank(minter);
        token.mint(alice, 10);
        vm.prank(admin);
        token.pause();
        address[] memory r = new address[](1);
        uint256[] memory a = new uint256[](1);
        (r[0], a[0]) = (alice, 1);
        vm.startPrank(minter);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        token.mint(alice, 1);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        token.mintBatch(r, a);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        token.burnFrom(alice, 1);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        token.move(alice, bob, 1);
        vm.stopPrank();
        vm.prank(admin);
        token.unpause();
        vm.prank(minter);
        token.mint(alice, 1);
    }

    function test_roles() public {
        vm.startPrank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, keccak256("MINTER_ROLE")));
        token.mint(alice, 1);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, keccak256("MINTER_ROLE")));
        token.mintBatch(new address[](0), new uint256[](0));
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, keccak256("BURNER_ROLE")));
        token.burnFrom(alice, 1);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, keccak256("MOVER_ROLE")));
        token.move(alice, bob, 1);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, keccak256("PAUSER_ROLE")));
        token.pause();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, keccak256("PAUSER_ROLE")));
        token.unpause();
        vm.stopPrank();
    }
}
