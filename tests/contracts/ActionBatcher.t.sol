// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {Base} from "./Base.t.sol";
import {ActionKind} from "../../contracts/Common.sol";
import {IActionBatcher} from "../../contracts/IActionBatcher.sol";
import {ICommunityRewards} from "../../contracts/ICommunityRewards.sol";
import {IFeedbackBox} from "../../contracts/IFeedbackBox.sol";
import {IPloggingRegistry} from "../../contracts/IPloggingRegistry.sol";
import {ISignedActions} from "../../contracts/ISignedActions.sol";

contract ActionBatcherTest is Base {
    uint256 internal aliceKey = residentKey(1);
    address internal alice = vm.addr(aliceKey);
    address internal cafe = makeAddr("cafe");

    function setUp() public override {
        super.setUp();
        vm.prank(partnerManager);
        rewards.setPartner(cafe, false, uint64(block.timestamp) + 30 days, 0);
    }

    function _mixed() internal view returns (IActionBatcher.Group[] memory g) {
        g = new IActionBatcher.Group[](3);
        IPloggingRegistry.SignedPloggingSession[] memory p = new IPloggingRegistry.SignedPloggingSession[](2);
        p[0] = signed(aliceKey, session(alice, 0));
        p[1] = signed(aliceKey, session(alice, 0)); // replay: fails alone
        g[0] = IActionBatcher.Group(ActionKind.Plogging, abi.encode(p));
        g[1] = IActionBatcher.Group(ActionKind.Feedback, abi.encode(signedFeedback(aliceKey, feedback(alice, 0))));
        // Spends the points the first group just earned.
        ICommunityRewards.SignedRedemption[] memory r = new ICommunityRewards.SignedRedemption[](1);
        r[0] = signedRedemption(aliceKey, redemption(alice, cafe, defaultReward(), 0));
        g[2] = IActionBatcher.Group(ActionKind.Redemption, abi.encode(r));
    }

    function test_execute_mixedKindsInOrder() public {
        IActionBatcher.Group[] memory g = _mixed();
        vm.prank(relayer);
        uint256[] memory masks = batcher.execute(g);
        assertEq(masks.length, 3);
        assertEq(masks[0], 2);
        assertEq(masks[1], 0);
        assertEq(masks[2], 0);
        assertEq(box.itemCount(), 1);
        assertEq(token.balanceOf(cafe), defaultReward());
        assertEq(token.balanceOf(alice), 0);
    }

    function test_execute_groupFailureIsolated() public {
        IActionBatcher.Group[] memory g = new IActionBatcher.Group[](2);
        g[0] = IActionBatcher.Group(ActionKind.Feedback, abi.encode(signedFeedback(aliceKey, feedback(alice, 0))));
        g[1] = IActionBatcher.Group(ActionKind.Plogging, abi.encode(one(signed(aliceKey, session(alice, 0)))));
        vm.prank(admin);
        token.pause();
        vm.expectEmit(address(batcher));
        emit IActionBatcher.GroupFailed(1, ActionKind.Plogging, 1, abi.encodeWithSelector(Pausable.EnforcedPause.selector));
        vm.prank(relayer);
        uint256[] memory masks = batcher.execute(g);
        assertEq(masks[0], 0);
        assertEq(masks[1], 1);
        assertEq(box.itemCount(), 1);
        assertTrue(registry.isNonceUsable(alice, 0));
    }

    function test_execute_supportsAndDonationsAndClaimsRoute() public {
        (address t, bytes4 sel) = batcher.route(ActionKind.Support);
        assertEq(t, address(box));
        assertEq(sel, box.supportBatch.selector);
        (t, sel) = batcher.route(ActionKind.Donation);
        assertEq(t, address(rewards));
        assertEq(sel, rewards.donateBatch.selector);
        (t, sel) = batcher.route(ActionKind.Claim);
        assertEq(sel, rewards.claimBatch.selector);
        // An empty group fails as a whole with the target's own error.
        IActionBatcher.Group[] memory g = new IActionBatcher.Group[](1);
        g[0] = IActionBatcher.Group(ActionKind.Support, abi.encode(new IFeedbackBox.SignedSupport[](0)));
        vm.expectEmit(address(batcher));
        emit IActionBatcher.GroupFailed(0, ActionKind.Support, 0, abi.encodeWithSelector(ISignedActions.SignedActionsBatchSize.selector, 0, 64));
        vm.prank(relayer);
        batcher.execute(g);
    }

    function test_execute_errors() public {
        vm.startPrank(relayer);
        vm.expectRevert(abi.encodeWithSelector(IActionBatcher.ActionBatcherGroupCount.selector, 0, 16));
        batcher.execute(new IActionBatcher.Group[](0));
        vm.expectRevert(abi.encodeWithSelector(IActionBatcher.ActionBatcherGroupCount.selector, 17, 16));
        batcher.execute(new IActionBatcher.Group[](17));
        IActionBatcher.Group[] memory g = new IActionBatcher.Group[](1);
        g[0] = IActionBatcher.Group(ActionKind.Plogging, hex"00");
        vm.expectRevert(abi.encodeWithSelector(IActionBatcher.ActionBatcherMalformedGroup.selector, 0));
        batcher.execute(g);
        // 60 plogging (960 units) + 40 donations (1000 units) > 1600.
        IActionBatcher.Group[] memory h = new IActionBatcher.Group[](2);
        h[0] = IActionBatcher.Group(ActionKind.Plogging, abi.encode(new IPloggingRegistry.SignedPloggingSession[](60)));
        h[1] = IActionBatcher.Group(ActionKind.Donation, abi.encode(new ICommunityRewards.SignedDonation[](40)));
        vm.expectRevert(abi.encodeWithSelector(IActionBatcher.ActionBatcherOverBudget.selector, 1960, 1600));
        batcher.execute(h);
        vm.stopPrank();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, keccak256("RELAYER_ROLE")));
        batcher.execute(g);
    }

    function test_constructor_zeroTarget() public {
        vm.expectRevert(IActionBatcher.ActionBatcherZeroTarget.selector);
        new ActionBatcherHarness(address(0), address(box), address(rewards));
    }
}

import {ActionBatcher} from "../../contracts/ActionBatcher.sol";
import {PloggingRegistry} from "../../contracts/PloggingRegistry.sol";
import {FeedbackBox} from "../../contracts/FeedbackBox.sol";
import {CommunityRewards} from "../../contracts/CommunityRewards.sol";

contract ActionBatcherHarness is ActionBatcher {
    constructor(address r, address b, address c)
        ActionBatcher(PloggingRegistry(r), FeedbackBox(b), CommunityRewards(c), msg.sender, address(0))
    {}
}
