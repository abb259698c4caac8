// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Base} from "./Base.t.sol";
import {ICommunityRewards} from "../../contracts/ICommunityRewards.sol";
import {IPloggingRegistry} from "../../contracts/IPloggingRegistry.sol";
import {ISignedActions} from "../../contracts/ISignedActions.sol";

contract CommunityRewardsTest is Base {
    uint256 internal aliceKey = residentKey(1);
    address internal alice = vm.addr(aliceKey);
    address internal cafe = makeAddr("cafe");
    address internal burner = makeAddr("burner");
    address internal forest = makeAddr("forest");

    function setUp() public override {
        super.setUp();
        vm.startPrank(partnerManager);
        rewards.setPartner(cafe, false, uint64(block.timestamp) + 30 days, keccak256("cafe"));
        rewards.setPartner(burner, true, uint64(block.timestamp) + 30 days, keccak256("burner"));
        rewards.setCause(1, forest, true, keccak256("forest"));
        vm.stopPrank();
        fund(alice, 100);
    }

    function test_types() public view {
        assertEq(rewards.REDEMPTION_TYPEHASH(), keccak256(bytes(rewards.REDEMPTION_TYPE())));
        assertEq(rewards.DONATION_TYPEHASH(), keccak256(bytes(rewards.DONATION_TYPE())));
        assertEq(rewards.CLAIM_TYPEHASH(), keccak256(bytes(rewards.CLAIM_TYPE())));
        (, string memory name,,,,,) = rewards.eip712Domain();
        assertEq(name, "CommunityRewards");
        assertTrue(rewards.DOMAIN_SEPARATOR() != bytes32(0));
        assertEq(address(rewards.token()), address(token));
    }

    function test_rewardPolicy_pushed() public {
        ICommunityRewards.RewardPolicy memory p = ICommunityRewards.RewardPolicy(12, 6, 80);
        vm.expectEmit(address(rewards));
        emit ICommunityRewards.RewardPolicyUpdated(admin, 12, 6, 80);
        vm.prank(admin);
        rewards.setRewardPolicy(p);
        assertEq(registry.reward().perKm, 12);
        assertEq(registry.reward().per100Grams, 6);
        assertEq(box.acceptedReward(), 80);
        ICommunityRewards.RewardPolicy memory got = rewards.rewardPolicy();
        assertEq(got.perKm, 12);
        assertEq(got.perAcceptedFeedback, 80);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, keccak256("POLICY_ROLE")));
        rewards.setRewardPolicy(p);
    }

    function test_partners_and_causes() public {
        assertTrue(rewards.isPartnerActive(cafe));
        assertEq(rewards.partnerOf(cafe).expiresAt, uint64(block.timestamp) + 30 days);
        vm.startPrank(partnerManager);
        vm.expectRevert(ICommunityRewards.CommunityRewardsInvalidRegistration.selector);
        rewards.setPartner(address(0), false, uint64(block.timestamp) + 1, 0);
        vm.expectRevert(ICommunityRewards.CommunityRewardsInvalidRegistration.selector);
        rewards.setPartner(cafe, false, uint64(block.timestamp), 0);
        vm.expectEmit(address(rewards));
        emit ICommunityRewards.PartnerRemoved(cafe, partnerManager);
        rewards.removePartner(cafe);
        vm.expectRevert(abi.encodeWithSelector(ICommunityRewards.CommunityRewardsUnknownPartner.selector, cafe));
        rewards.removePartner(cafe);
        vm.expectRevert(ICommunityRewards.CommunityRewardsInvalidRegistration.selector);
        rewards.setCause(2, address(0), true, 0);
        vm.expectEmit(address(rewards));
        emit ICommunityRewards.CauseSet(2, partnerManager, forest, false, 0);
        rewards.setCause(2, forest, false, 0);
        vm.stopPrank();
        assertEq(rewards.causeOf(1).wallet, forest);
        vm.startPrank(stranger);
        bytes memory err = abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, keccak256("PARTNER_MANAGER_ROLE"));
        vm.expectRevert(err);
        rewards.setPartner(cafe, false, 0, 0);
        vm.expectRevert(err);
        rewards.removePartner(cafe);
        vm.expectRevert(err);
        rewards.setCause(1, forest, true, 0);
        vm.stopPrank();
    }

    function _redeem(ICommunityRewards.SignedRedemption[] memory b) internal returns (uint256) {
        vm.prank(relayer);
        return rewards.redeemBatch(b);
    }

    function test_redeem_transferAndBurn_withinBatchBalance() public {
        ICommunityRewards.SignedRedemption[] memory b = new ICommunityRewards.SignedRedemption[](3);
        b[0] = signedRedemption(aliceKey, redemption(alice, cafe, 40, 0));
        b[1] = signedRedemption(aliceKey, redemption(alice, burner, 50, 1));
        b[2] = signedRedemption(aliceKey, redemption(alice, cafe, 20, 2)); // only 10 left after the first two
        vm.expectEmit(address(rewards));
        emit ICommunityRewards.Redeemed(rewards.redemptionDigest(b[0].redemption), alice, cafe, 40, keccak256("coffee"), false, 0);
        vm.expectEmit(address(rewards));
        emit ICommunityRewards.Redeemed(rewards.redemptionDigest(b[1].redemption), alice, burner, 50, keccak256("coffee"), true, 1);
        vm.expectEmit(address(rewards));
        emit ISignedActions.ActionFailed(
            rewards.redemptionDigest(b[2].redemption), alice, 2,
            abi.encodeWithSelector(ICommunityRewards.CommunityRewardsInsufficientBalance.selector, alice, 10, 20)
        );
        assertEq(_redeem(b), 4);
        assertEq(token.balanceOf(alice), 10);
        assertEq(token.balanceOf(cafe), 40);
        assertEq(token.totalSupply(), 50);
        assertTrue(rewards.isNonceUsable(alice, 2));
    }

    function _expectRedeemFailure(ICommunityRewards.Redemption memory r, uint256 key, bytes memory reason) internal {
        ICommunityRewards.SignedRedemption[] memory b = new ICommunityRewards.SignedRedemption[](1);
        b[0] = signedRedemption(key, r);
        assertEq(rewards.checkRedemption(b[0]), reason);
        vm.expectEmit(address(rewards));
        emit ISignedActions.ActionFailed(rewards.redemptionDigest(r), r.resident, r.nonce, reason);
        assertEq(_redeem(b), 1);
    }

    function test_redeem_errors() public {
        _expectRedeemFailure(redemption(alice, stranger, 1, 0), aliceKey, abi.encodeWithSelector(ICommunityRewards.CommunityRewardsUnknownPartner.selector, stranger));
        _expectRedeemFailure(redemption(alice, cafe, 0, 0), aliceKey, abi.encodeWithSelector(ICommunityRewards.CommunityRewardsZeroAmount.selector));
        _expectRedeemFailure(redemption(alice, cafe, 101, 0), aliceKey, abi.encodeWithSelector(ICommunityRewards.CommunityRewardsInsufficientBalance.selector, alice, 100, 101));
        ICommunityRewards.Redemption memory r = redemption(alice, cafe, 1, 0);
        _expectRedeemFailure(r, residentKey(2), abi.encodeWithSelector(ISignedActions.SignedActionsInvalidSignature.selector, alice, rewards.redemptionDigest(r)));
        vm.warp(block.timestamp + 31 days);
        r = redemption(alice, cafe, 1, 0);
        _expectRedeemFailure(r, aliceKey, abi.encodeWithSelector(ICommunityRewards.CommunityRewardsPartnerExpired.selector, cafe, uint64(T0) + 30 days));
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(ISignedActions.SignedActionsBatchSize.selector, 0, 64));
        rewards.redeemBatch(new ICommunityRewards.SignedRedemption[](0));
    }

    function test_paused_batchesWait() public {
        vm.prank(admin);
        token.pause();
        vm.startPrank(relayer);
        vm.expectRevert(ICommunityRewards.CommunityRewardsTokenPaused.selector);
        rewards.redeemBatch(new ICommunityRewards.SignedRedemption[](1));
        vm.expectRevert(ICommunityRewards.CommunityRewardsTokenPaused.selector);
        rewards.donateBatch(new ICommunityRewards.SignedDonation[](1));
        vm.expectRevert(ICommunityRewards.CommunityRewardsTokenPaused.selector);
        rewards.claimBatch(new ICommunityRewards.SignedClaim[](1));
        vm.stopPrank();
    }

    function test_donate() public {
        ICommunityRewards.SignedDonation[] memory b = new ICommunityRewards.SignedDonation[](3);
        b[0] = signedDonation(aliceKey, donation(alice, 1, 30, 0));
        b[1] = signedDonation(aliceKey, donation(alice, 9, 30, 1));
        b[2] = signedDonation(aliceKey, donation(alice, 1, 0, 2));
        vm.expectEmit(address(rewards));
        emit ICommunityRewards.Donated(rewards.donationDigest(b[0].donation), alice, 1, forest, 30, 0);
        vm.expectEmit(address(rewards));
        emit ISignedActions.ActionFailed(
            rewards.donationDigest(b[1].donation), alice, 1, abi.encodeWithSelector(ICommunityRewards.CommunityRewardsUnknownCause.selector, 9)
        );
        vm.prank(relayer);
        assertEq(rewards.donateBatch(b), 6);
        assertEq(token.balanceOf(forest), 30);
        assertEq(rewards.checkDonation(b[2]), abi.encodeWithSelector(ICommunityRewards.CommunityRewardsZeroAmount.selector));
        assertEq(rewards.checkDonation(b[0]), abi.encodeWithSelector(ISignedActions.SignedActionsNonceUsed.selector, alice, 0));
    }

    // ------------------------------------------------------------- campaigns

    function _achievedCampaign() internal returns (uint64 id) {
        vm.startPrank(campaigner);
        id = uint64(rewards.createCampaign(uint64(block.timestamp), uint64(block.timestamp) + 7 days, ICommunityRewards.CampaignMetric.TrashGrams, 0, 1_000, keccak256("spring")));
        rewards.reportCampaignProgress(id, 1_500);
        vm.warp(block.timestamp + 7 days + 1);
        rewards.finalizeCampaign(id);
        vm.stopPrank();
    }

    function test_campaign_lifecycle() public {
        vm.startPrank(campaigner);
        vm.expectRevert(ICommunityRewards.CommunityRewardsInvalidCampaign.selector);
        rewards.createCampaign(10, 10, ICommunityRewards.CampaignMetric.Sessions, 0, 1, 0);
        uint64 start = uint64(block.timestamp) + 1 days;
        uint256 id = rewards.createCampaign(start, start + 1 days, ICommunityRewards.CampaignMetric.Sessions, 41_110, 10, 0);
        assertEq(rewards.campaignCount(), 1);
        vm.expectRevert(abi.encodeWithSelector(ICommunityRewards.CommunityRewardsCampaignTiming.selector, id, start, start + 1 days, uint64(block.timestamp)));
        rewards.reportCampaignProgress(id, 1);
        vm.expectRevert(abi.encodeWithSelector(ICommunityRewards.CommunityRewardsCampaignTiming.selector, id, start, start + 1 days, uint64(block.timestamp)));
        rewards.finalizeCampaign(id);
        vm.warp(start + 2 days);
        vm.expectEmit(address(rewards));
        emit ICommunityRewards.CampaignProgressReported(id, campaigner, 5);
        rewards.reportCampaignProgress(id, 5);
        vm.expectEmit(address(rewards));
        emit ICommunityRewards.CampaignFinalized(id, campaigner, ICommunityRewards.CampaignStatus.Missed, 5);
        rewards.finalizeCampaign(id);
        vm.expectRevert(abi.encodeWithSelector(ICommunityRewards.CommunityRewardsWrongCampaignStatus.selector, id, ICommunityRewards.CampaignStatus.Missed));
        rewards.setCampaignBonus(id, bytes32(uint256(1)), 1);
        uint256 id2 = rewards.createCampaign(start, start + 1 days, ICommunityRewards.CampaignMetric.Sessions, 0, 10, 0);
        vm.expectEmit(address(rewards));
        emit ICommunityRewards.CampaignFinalized(id2, campaigner, ICommunityRewards.CampaignStatus.Cancelled, 0);
        rewards.cancelCampaign(id2);
        vm.expectRevert(abi.encodeWithSelector(ICommunityRewards.CommunityRewardsUnknownCampaign.selector, 99));
        rewards.cancelCampaign(99);
        vm.stopPrank();
    }

    function test_claims() public {
        uint64 id = _achievedCampaign();
        bytes32[] memory leaves = new bytes32[](3);
        address bob = vm.addr(residentKey(2));
        leaves[0] = keccak256(bytes.concat(keccak256(abi.encode(alice, uint256(30)))));
        leaves[1] = keccak256(bytes.concat(keccak256(abi.encode(bob, uint256(20)))));
        leaves[2] = keccak256(bytes.concat(keccak256(abi.encode(forest, uint256(10)))));
        (bytes32 root, bytes32[] memory proofAlice) = merkle(leaves, 0);
        (, bytes32[] memory proofBob) = merkle(leaves, 1);
        vm.startPrank(campaigner);
        vm.expectRevert(abi.encodeWithSelector(ICommunityRewards.CommunityRewardsBonusLocked.selector, id));
        rewards.setCampaignBonus(id, 0, 60);
        rewards.setCampaignBonus(id, root, 45); // total below the tree's sum: the cap bites
        vm.stopPrank();
        ICommunityRewards.SignedClaim[] memory b = new ICommunityRewards.SignedClaim[](4);
        b[0] = signedClaim(aliceKey, claim(alice, id, 30, 0), proofAlice);
        b[1] = signedClaim(aliceKey, claim(alice, id, 30, 1), proofAlice); // twice
        b[2] = signedClaim(residentKey(2), claim(bob, id, 20, 0), proofBob); // over the total
        b[3] = signedClaim(residentKey(2), claim(bob, id, 25, 1), proofBob); // wrong amount
        vm.expectEmit(address(rewards));
        emit ICommunityRewards.BonusClaimed(id, rewards.claimDigest(b[0].claim), alice, 30);
        vm.prank(relayer);
        assertEq(rewards.claimBatch(b), 14);
        assertEq(token.balanceOf(alice), 130);
        assertTrue(rewards.hasClaimed(id, alice));
        assertEq(rewards.checkClaim(b[1]), abi.encodeWithSelector(ICommunityRewards.CommunityRewardsAlreadyClaimed.selector, id, alice));
        assertEq(rewards.checkClaim(b[2]), abi.encodeWithSelector(ICommunityRewards.CommunityRewardsBonusExhausted.selector, id, 15, 20));
        assertEq(rewards.checkClaim(b[3]), abi.encodeWithSelector(ICommunityRewards.CommunityRewardsInvalidProof.selector, id, bob, 25));
        assertEq(rewards.campaign(id).bonusClaimed, 30);
        vm.prank(campaigner);
        vm.expectRevert(abi.encodeWithSelector(ICommunityRewards.CommunityRewardsBonusLocked.selector, id));
        rewards.setCampaignBonus(id, root, 60);
    }

    function test_claim_errors() public {
        ICommunityRewards.SignedClaim memory c = signedClaim(aliceKey, claim(alice, 5, 1, 0), new bytes32[](0));
        assertEq(rewards.checkClaim(c), abi.encodeWithSelector(ICommunityRewards.CommunityRewardsUnknownCampaign.selector, 5));
        vm.prank(campaigner);
        uint64 id = uint64(rewards.createCampaign(uint64(block.timestamp), uint64(block.timestamp) + 1, ICommunityRewards.CampaignMetric.DistanceMeters, 0, 1, 0));
        c = signedClaim(aliceKey, claim(alice, id, 1, 0), new bytes32[](0));
        assertEq(rewards.checkClaim(c), abi.encodeWithSelector(ICommunityRewards.CommunityRewardsWrongCampaignStatus.selector, id, ICommunityRewards.CampaignStatus.Active));
        uint64 id2 = _achievedCampaign();
        c = signedClaim(aliceKey, claim(alice, id2, 1, 0), new bytes32[](0));
        assertEq(rewards.checkClaim(c), abi.encodeWithSelector(ICommunityRewards.CommunityRewardsNoBonus.selector, id2));
        vm.prank(campaigner);
        rewards.setCampaignBonus(id2, bytes32(uint256(1)), 1);
        c = signedClaim(aliceKey, claim(alice, id2, 0, 0), new bytes32[](0));
        assertEq(rewards.checkClaim(c), abi.encodeWithSelector(ICommunityRewards.CommunityRewardsZeroAmount.selector));
    }

    function test_roles() public {
        vm.startPrank(stranger);
        bytes memory err = abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, keccak256("CAMPAIGN_ROLE"));
        vm.expectRevert(err);
        rewards.createCampaign(1, 2, ICommunityRewards.CampaignMetric.Sessions, 0, 1, 0);
        vm.expectRevert(err);
        rewards.reportCampaignProgress(1, 1);
        vm.expectRevert(err);
        rewards.finalizeCampaign(1);
        vm.expectRevert(err);
        rewards.cancelCampaign(1);
        vm.expectRevert(err);
        rewards.setCampaignBonus(1, bytes32(uint256(1)), 1);
        err = abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, keccak256("RELAYER_ROLE"));
        vm.expectRevert(err);
        rewards.claimBatch(new ICommunityRewards.SignedClaim[](1));
        vm.expectRevert(err);
        rewards.redeemBatch(new ICommunityRewards.SignedRedemption[](1));
        vm.expectRevert(err);
        rewards.donateBatch(new ICommunityRewards.SignedDonation[](1));
        vm.stopPrank();
    }

    /// @dev Redemptions never take more than a resident holds, in any mix within a batch.
    function testFuzz_redeemNeverOverdraws(uint256[4] memory amounts) public {
        ICommunityRewards.SignedRedemption[] memory b = new ICommunityRewards.SignedRedemption[](4);
        uint256 expectedSpent;
        for (uint256 i; i < 4; ++i) {
            amounts[i] = bound(amounts[i], 1, 80);
            b[i] = signedRedemption(aliceKey, redemption(alice, i % 2 == 0 ? cafe : burner, amounts[i], uint64(i)));
            if (expectedSpent + amounts[i] <= 100) expectedSpent += amounts[i];
        }
        _redeem(b);
        assertEq(token.balanceOf(alice), 100 - expectedSpent);
    }
}
