// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Base} from "./Base.t.sol";
import {IFeedbackBox} from "../../contracts/IFeedbackBox.sol";
import {ISignedActions} from "../../contracts/ISignedActions.sol";
import {ERC1271WalletMock} from "./mocks/ERC1271WalletMock.sol";

contract FeedbackBoxTest is Base {
    uint256 internal aliceKey = residentKey(1);
    address internal alice = vm.addr(aliceKey);

    function test_typesAndDomain() public view {
        assertEq(box.FEEDBACK_TYPEHASH(), keccak256(bytes(box.FEEDBACK_TYPE())));
        assertEq(box.SUPPORT_TYPEHASH(), keccak256(bytes(box.SUPPORT_TYPE())));
        (, string memory name, string memory version,,,,) = box.eip712Domain();
        assertEq(name, "FeedbackBox");
        assertEq(version, "1");
        assertTrue(box.DOMAIN_SEPARATOR() != bytes32(0));
        assertEq(address(box.token()), address(token));
    }

    function test_submit() public {
        IFeedbackBox.Feedback memory f = feedback(alice, 0);
        IFeedbackBox.SignedFeedback[] memory b = signedFeedback(aliceKey, f);
        vm.expectEmit(address(box));
        emit IFeedbackBox.FeedbackSubmitted(1, box.feedbackDigest(f), alice, 1, 41_110, f.contentHash, 0);
        vm.prank(relayer);
        assertEq(box.submitBatch(b), 0);
        IFeedbackBox.Item memory it = box.item(1);
        assertEq(it.author, alice);
        assertEq(uint8(it.status), uint8(IFeedbackBox.ItemStatus.Submitted));
        assertEq(it.contentHash, f.contentHash);
        assertEq(box.itemCount(), 1);
        vm.prank(relayer);
        assertEq(box.submitBatch(b), 1); // replay
    }

    function _expectSubmitFailure(IFeedbackBox.Feedback memory f, uint256 key, bytes memory reason) internal {
        IFeedbackBox.SignedFeedback[] memory b = signedFeedback(key, f);
        assertEq(box.checkFeedback(b[0]), reason);
        vm.expectEmit(address(box));
        emit ISignedActions.ActionFailed(box.feedbackDigest(f), f.resident, f.nonce, reason);
        vm.prank(relayer);
        assertEq(box.submitBatch(b), 1);
    }

    /// @dev The nonce rules are shared: the top nonce is refused here too, and the box's counters
    /// share the slot with a replay window that stays intact.
    function test_submit_topNonceRefused() public {
        uint64 top = type(uint64).max;
        _expectSubmitFailure(
            feedback(alice, top), aliceKey, abi.encodeWithSelector(ISignedActions.SignedActionsNonceExhausted.selector, alice, top)
        );
        submit(aliceKey, top - 1);
        (uint64 next, uint128 window) = box.nonceWindow(alice);
        assertEq(next, top);
        assertEq(window, 1);
        _expectSubmitFailure(
            feedback(alice, top), aliceKey, abi.encodeWithSelector(ISignedActions.SignedActionsNonceExhausted.selector, alice, top)
        );
    }

    function test_submit_errors() public {
        IFeedbackBox.Feedback memory f = feedback(alice, 0);
        f.category = 9;
        _expectSubmitFailure(f, aliceKey, abi.encodeWithSelector(IFeedbackBox.FeedbackBoxUnknownCategory.selector, 9));
        f = feedback(alice, 0);
        f.contentHash = 0;
        _expectSubmitFailure(f, aliceKey, abi.encodeWithSelector(IFeedbackBox.FeedbackBoxEmptyContent.selector));
        f = feedback(alice, 0);
        _expectSubmitFailure(f, residentKey(2), abi.encodeWithSelector(ISignedActions.SignedActionsInvalidSignature.selector, alice, box.feedbackDigest(f)));
        for (uint64 i; i < 3; ++i) submit(aliceKey, i);
        _expectSubmitFailure(feedback(alice, 3), aliceKey, abi.encodeWithSelector(IFeedbackBox.FeedbackBoxDailySubmissionsExceeded.selector, alice, 3));
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(ISignedActions.SignedActionsBatchSize.selector, 0, 64));
        box.submitBatch(new IFeedbackBox.SignedFeedback[](0));
    }

    function test_supports_thresholdAndOverdue() public {
        uint64 id = submit(aliceKey, 0);
        for (uint256 i; i < 2; ++i) assertEq(supportItem(residentKey(10 + i), id, 0), 0);
        assertEq(box.obligedCount(), 0);
        uint256 key = residentKey(12);
        IFeedbackBox.SignedSupport[] memory b = signedSupport(key, support(vm.addr(key), id, 0));
        vm.expectEmit(address(box));
        emit IFeedbackBox.FeedbackSupported(id, box.supportDigest(b[0].support), vm.addr(key), 3, 0);
        vm.expectEmit(address(box));
        emit IFeedbackBox.FeedbackAnswerRequired(id, 3, uint64(block.timestamp) + 14 days);
        vm.prank(relayer);
        assertEq(box.supportBatch(b), 0);
        assertEq(box.item(id).supportCount, 3);
        assertTrue(box.hasSupported(id, vm.addr(key)));
        assertEq(box.obligedCount(), 1);
        (uint256[] memory ids, uint256 next) = box.overdueItems(0, 10);
        assertEq(ids.length, 0);
        assertEq(next, 1);
        vm.warp(block.timestamp + 14 days + 1);
        (ids,) = box.overdueItems(0, 10);
        assertEq(ids.length, 1);
        assertEq(ids[0], id);
        // Answered items are no longer overdue.
        vm.startPrank(reviewer);
        box.startReview(id);
        box.answer(id, false, keccak256("no"));
        vm.stopPrank();
        (ids,) = box.overdueItems(0, 10);
        assertEq(ids.length, 0);
    }

    function _expectSupportFailure(uint256 key, uint64 id, uint64 nonce, bytes memory reason) internal {
        IFeedbackBox.SignedSupport[] memory b = signedSupport(key, support(vm.addr(key), id, nonce));
        assertEq(box.checkSupport(b[0]), reason);
        vm.expectEmit(address(box));
        emit ISignedActions.ActionFailed(box.supportDigest(b[0].support), vm.addr(key), nonce, reason);
        vm.prank(relayer);
        assertEq(box.supportBatch(b), 1);
    }

    function test_support_errors() public {
        uint64 id = submit(aliceKey, 0);
        uint256 bobKey = residentKey(2);
        address bob = vm.addr(bobKey);
        _expectSupportFailure(bobKey, 99, 0, abi.encodeWithSelector(IFeedbackBox.FeedbackBoxUnknownItem.selector, 99));
        _expectSupportFailure(aliceKey, id, 1, abi.encodeWithSelector(IFeedbackBox.FeedbackBoxOwnItem.selector, id, alice));
        assertEq(supportItem(bobKey, id, 0), 0);
        _expectSupportFailure(bobKey, id, 1, abi.encodeWithSelector(IFeedbackBox.FeedbackBoxAlreadySupported.selector, id, bob));
        vm.prank(moderator);
        box.moderate(id, true, 4);
        _expectSupportFailure(residentKey(3), id, 0, abi.encodeWithSelector(IFeedbackBox.FeedbackBoxItemHidden.selector, id));
        vm.prank(moderator);
        box.moderate(id, false, 0);
        vm.startPrank(reviewer);
        box.startReview(id);
        box.answer(id, true, keccak256("yes"));
        vm.stopPrank();
        _expectSupportFailure(
            residentKey(3), id, 0, abi.encodeWithSelector(IFeedbackBox.FeedbackBoxWrongStatus.selector, id, IFeedbackBox.ItemStatus.Answered)
        );
        // Daily support cap.
        vm.prank(admin);
        box.setSettings(IFeedbackBox.Settings(0, 0, 3, 1));
        uint64 id2 = submit(aliceKey, 1);
        uint64 id3 = submit(aliceKey, 2);
        assertEq(supportItem(residentKey(4), id2, 0), 0);
        _expectSupportFailure(residentKey(4), id3, 1, abi.encodeWithSelector(IFeedbackBox.FeedbackBoxDailySupportsExceeded.selector, vm.addr(residentKey(4)), 1));
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(ISignedActions.SignedActionsBatchSize.selector, 65, 64));
        box.supportBatch(new IFeedbackBox.SignedSupport[](65));
    }

    function test_support_fromSmartWallet() public {
        uint64 id = submit(aliceKey, 0);
        ERC1271WalletMock wallet = new ERC1271WalletMock(vm.addr(residentKey(5)));
        IFeedbackBox.SignedSupport[] memory b = signedSupport(residentKey(5), support(address(wallet), id, 0));
        vm.prank(relayer);
        assertEq(box.supportBatch(b), 0);
        assertTrue(box.hasSupported(id, address(wallet)));
    }

    function test_lifecycle_acceptedRewarded() public {
        uint64 id = submit(aliceKey, 0);
        vm.startPrank(reviewer);
        vm.expectRevert(abi.encodeWithSelector(IFeedbackBox.FeedbackBoxWrongStatus.selector, id, IFeedbackBox.ItemStatus.Submitted));
        box.answer(id, true, keccak256("a"));
        vm.expectEmit(address(box));
        emit IFeedbackBox.FeedbackReviewStarted(id, reviewer);
        box.startReview(id);
        vm.expectRevert(abi.encodeWithSelector(IFeedbackBox.FeedbackBoxEmptyAnswer.selector, id));
        box.answer(id, true, 0);
        vm.expectEmit(address(box));
        emit IFeedbackBox.FeedbackAnswered(id, reviewer, true, keccak256("a"), 50);
        box.answer(id, true, keccak256("a"));
        assertEq(token.balanceOf(alice), 50);
        IFeedbackBox.Item memory it = box.item(id);
        assertTrue(it.accepted);
        assertEq(it.answerHash, keccak256("a"));
        vm.expectEmit(address(box));
        emit IFeedbackBox.FeedbackClosed(id, reviewer);
        box.close(id);
        vm.expectRevert(abi.encodeWithSelector(IFeedbackBox.FeedbackBoxWrongStatus.selector, id, IFeedbackBox.ItemStatus.Closed));
        box.close(id);
        vm.expectRevert(abi.encodeWithSelector(IFeedbackBox.FeedbackBoxUnknownItem.selector, 42));
        box.startReview(42);
        vm.stopPrank();
    }

    function test_rejectedNotRewarded() public {
        uint64 id = submit(aliceKey, 0);
        vm.startPrank(reviewer);
        box.startReview(id);
        box.answer(id, false, keccak256("no"));
        vm.stopPrank();
        assertEq(token.balanceOf(alice), 0);
    }

    function test_moderation() public {
        uint64 id = submit(aliceKey, 0);
        vm.startPrank(moderator);
        vm.expectEmit(address(box));
        emit IFeedbackBox.FeedbackModerated(id, moderator, true, 12);
        box.moderate(id, true, 12);
        assertTrue(box.item(id).hidden);
        vm.expectRevert(abi.encodeWithSelector(IFeedbackBox.FeedbackBoxModerationUnchanged.selector, id, true));
        box.moderate(id, true, 12);
        vm.expectRevert(abi.encodeWithSelector(IFeedbackBox.FeedbackBoxUnknownItem.selector, 7));
        box.moderate(7, true, 1);
        vm.stopPrank();
    }

    function test_policy() public {
        vm.startPrank(admin);
        vm.expectEmit(address(box));
        emit IFeedbackBox.FeedbackCategorySet(2, admin, true, "Traffic");
        box.setCategory(2, true, "Traffic");
        assertTrue(box.categoryEnabled(2));
        IFeedbackBox.Settings memory s = IFeedbackBox.Settings(5, 7 days, 2, 10);
        vm.expectEmit(address(box));
        emit IFeedbackBox.FeedbackSettingsUpdated(admin, s);
        box.setSettings(s);
        assertEq(box.settings().supportThreshold, 5);
        vm.expectRevert(IFeedbackBox.FeedbackBoxInvalidSettings.selector);
        box.setSettings(IFeedbackBox.Settings(5, 0, 2, 10));
        vm.expectEmit(address(box));
        emit IFeedbackBox.FeedbackRewardUpdated(admin, 70);
        box.setAcceptedReward(70);
        assertEq(box.acceptedReward(), 70);
        vm.stopPrank();
    }

    function test_roles() public {
        vm.startPrank(stranger);
        bytes memory err = abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, keccak256("REVIEWER_ROLE"));
        vm.expectRevert(err);
        box.startReview(1);
        vm.expectRevert(err);
        box.answer(1, true, bytes32(uint256(1)));
        vm.expectRevert(err);
        box.close(1);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, keccak256("MODERATOR_ROLE")));
        box.moderate(1, true, 0);
        err = abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, keccak256("POLICY_ROLE"));
        vm.expectRevert(err);
        box.setCategory(1, false, "");
        vm.expectRevert(err);
        box.setSettings(IFeedbackBox.Settings(1, 1, 1, 1));
        vm.expectRevert(err);
        box.setAcceptedReward(1);
        err = abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, keccak256("RELAYER_ROLE"));
        vm.expectRevert(err);
        box.submitBatch(new IFeedbackBox.SignedFeedback[](1));
        vm.expectRevert(err);
        box.supportBatch(new IFeedbackBox.SignedSupport[](1));
        vm.stopPrank();
    }

    /// @dev One support per resident per item, whatever the order and repetition.
    function testFuzz_oneSupportPerResident(uint8 seed) public {
        uint64 id = submit(aliceKey, 0);
        uint256 ok;
        for (uint256 i; i < 6; ++i) {
            uint256 who = (uint256(keccak256(abi.encode(seed, i))) % 3) + 10;
            if (supportItem(residentKey(who), id, uint64(i)) == 0) ++ok;
        }
        assertEq(box.item(id).supportCount, ok);
        assertLe(ok, 3);
    }
}
