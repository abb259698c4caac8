// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {Base} from "./Base.t.sol";
import {ICommunityRewards} from "../../contracts/ICommunityRewards.sol";
import {IFeedbackBox} from "../../contracts/IFeedbackBox.sol";
import {IPloggingRegistry} from "../../contracts/IPloggingRegistry.sol";
import {IActionBatcher} from "../../contracts/IActionBatcher.sol";

/// @dev Every staff function, called through the forwarder by a staff member who holds no gas, is
/// authorized by the signer's role and names the signer in its event; without the role it is refused.
contract StaffAccessTest is Base {
    uint256 internal staffKey = uint256(keccak256("staff member"));
    address internal staff = vm.addr(staffKey);
    uint256 internal adminKey = uint256(keccak256(abi.encodePacked("admin"))); // makeAddr("admin")'s key
    uint256 internal strangerKey = uint256(keccak256("no roles"));

    struct Call {
        address target;
        bytes data;
        bytes32 role;
    }

    function setUp() public override {
        super.setUp();
        assertEq(vm.addr(adminKey), admin);
        vm.startPrank(admin);
        registry.grantRole(registry.VERIFIER_ROLE(), staff);
        registry.grantRole(registry.POLICY_ROLE(), staff);
        box.grantRole(box.REVIEWER_ROLE(), staff);
        box.grantRole(box.MODERATOR_ROLE(), staff);
        box.grantRole(box.POLICY_ROLE(), staff);
        rewards.grantRole(rewards.CAMPAIGN_ROLE(), staff);
        rewards.grantRole(rewards.PARTNER_MANAGER_ROLE(), staff);
        rewards.grantRole(rewards.POLICY_ROLE(), staff);
        token.grantRole(token.PAUSER_ROLE(), staff);
        vm.stopPrank();
        assertEq(staff.balance, 0);
    }

    function _as(address target, bytes memory data) internal {
        relayAs(staffKey, target, data);
    }

    // ------------------------------------------------------------- attribution

    function test_registry_staffFunctionsNameTheSigner() public {
        IPloggingRegistry.AutoAcceptThresholds memory pending = IPloggingRegistry.AutoAcceptThresholds(0, 0, 0);
        vm.expectEmit(address(registry));
        emit IPloggingRegistry.PloggingThresholdsUpdated(staff, pending);
        _as(address(registry), abi.encodeCall(registry.setThresholds, (pending)));

        (uint256 k1, uint256 k2, uint256 k3) = (residentKey(1), residentKey(2), residentKey(3));
        (address r1, address r2, address r3) = (vm.addr(k1), vm.addr(k2), vm.addr(k3));
        uint256 reward = defaultReward();
        bytes32 d1 = plog(k1, 0);
        vm.expectEmit(address(registry));
        emit IPloggingRegistry.PloggingVerified(d1, r1, staff, reward, reward);
        _as(address(registry), abi.encodeCall(registry.verify, (d1)));

        bytes32 d2 = plog(k2, 0);
        vm.expectEmit(address(registry));
        emit IPloggingRegistry.PloggingRejected(d2, r2, staff, 7);
        _as(address(registry), abi.encodeCall(registry.reject, (d2, 7)));

        vm.expectEmit(address(registry));
        emit IPloggingRegistry.PloggingRevoked(d1, r1, staff, 3, reward, reward);
        _as(address(registry), abi.encodeCall(registry.revoke, (d1, 3)));

        // An auto-accepted session, committed alone (its leaf is the root), revoked after most was spent.
        IPloggingRegistry.AutoAcceptThresholds memory all = IPloggingRegistry.AutoAcceptThresholds(
            type(uint32).max, type(uint32).max, type(uint64).max
        );
        _as(address(registry), abi.encodeCall(registry.setThresholds, (all)));
        bytes32 d3 = plog(k3, 0);
        vm.prank(address(registry));
        token.burnFrom(r3, 70);
        IPloggingRegistry.CommittedSession memory cs = IPloggingRegistry.CommittedSession(0, d3, r3, reward, new bytes32[](0));
        vm.expectEmit(address(registry));
        emit IPloggingRegistry.PloggingRevoked(d3, r3, staff, 9, reward, reward - 70);
        _as(address(registry), abi.encodeCall(registry.revokeCommitted, (cs, 9)));
        fund(r3, 30);
        vm.expectEmit(address(registry));
        emit IPloggingRegistry.PloggingClawbackSettled(r3, staff, 30, 40);
        _as(address(registry), abi.encodeCall(registry.settleClawback, (r3)));

        IPloggingRegistry.PloggingBounds memory b = defaultBounds();
        b.maxSessionsPerDay = 9;
        vm.expectEmit(address(registry));
        emit IPloggingRegistry.PloggingBoundsUpdated(staff, b);
        _as(address(registry), abi.encodeCall(registry.setBounds, (b)));
        vm.expectEmit(address(registry));
        emit IPloggingRegistry.PloggingRewardUpdated(staff, 11, 6);
        _as(address(registry), abi.encodeCall(registry.setReward, (IPloggingRegistry.PloggingReward(11, 6))));
    }

    function test_feedbackBox_staffFunctionsNameTheSigner() public {
        uint64 first = submit(residentKey(1), 0);
        uint64 second = submit(residentKey(2), 0);
        vm.expectEmit(address(box));
        emit IFeedbackBox.FeedbackReviewStarted(first, staff);
        _as(address(box), abi.encodeCall(box.startReview, (first)));
        vm.expectEmit(address(box));
        emit IFeedbackBox.FeedbackAnswered(first, staff, true, keccak256("answer"), 50);
        _as(address(box), abi.encodeCall(box.answer, (first, true, keccak256("answer"))));
        vm.expectEmit(address(box));
        emit IFeedbackBox.FeedbackClosed(first, staff);
        _as(address(box), abi.encodeCall(box.close, (first)));
        vm.expectEmit(address(box));
        emit IFeedbackBox.FeedbackModerated(second, staff, true, 4);
        _as(address(box), abi.encodeCall(box.moderate, (second, true, 4)));

        vm.expectEmit(address(box));
        emit IFeedbackBox.FeedbackCategorySet(2, staff, true, "Transport");
        _as(address(box), abi.encodeCall(box.setCategory, (2, true, "Transport")));
        IFeedbackBox.Settings memory s = IFeedbackBox.Settings(5, 7 days, 4, 30);
        vm.expectEmit(address(box));
        emit IFeedbackBox.FeedbackSettingsUpdated(staff, s);
        _as(address(box), abi.encodeCall(box.setSettings, (s)));
        vm.expectEmit(address(box));
        emit IFeedbackBox.FeedbackRewardUpdated(staff, 60);
        _as(address(box), abi.encodeCall(box.setAcceptedReward, (60)));
    }

    function test_communityRewards_staffFunctionsNameTheSigner() public {
        uint64 start = uint64(block.timestamp);
        bytes memory create = abi.encodeCall(
            rewards.createCampaign, (start, start + 1 days, ICommunityRewards.CampaignMetric.TrashGrams, 0, 100, keccak256("c"))
        );
        vm.expectEmit(true, true, false, false, address(rewards));
        emit ICommunityRewards.CampaignCreated(1, staff, rewards.campaign(0));
        _as(address(rewards), create);
        vm.expectEmit(address(rewards));
        emit ICommunityRewards.CampaignProgressReported(1, staff, 150);
        _as(address(rewards), abi.encodeCall(rewards.reportCampaignProgress, (1, 150)));
        _as(address(rewards), create);
        vm.expectEmit(address(rewards));
        emit ICommunityRewards.CampaignFinalized(2, staff, ICommunityRewards.CampaignStatus.Cancelled, 0);
        _as(address(rewards), abi.encodeCall(rewards.cancelCampaign, (2)));
        vm.warp(start + 1 days + 1);
        vm.expectEmit(address(rewards));
        emit ICommunityRewards.CampaignFinalized(1, staff, ICommunityRewards.CampaignStatus.Achieved, 150);
        _as(address(rewards), abi.encodeCall(rewards.finalizeCampaign, (1)));
        vm.expectEmit(address(rewards));
        emit ICommunityRewards.CampaignBonusSet(1, staff, keccak256("root"), 10);
        _as(address(rewards), abi.encodeCall(rewards.setCampaignBonus, (1, keccak256("root"), 10)));

        address shop = makeAddr("shop");
        uint64 expires = uint64(block.timestamp + 30 days);
        vm.expectEmit(address(rewards));
        emit ICommunityRewards.PartnerSet(shop, staff, false, expires, keccak256("shop"));
        _as(address(rewards), abi.encodeCall(rewards.setPartner, (shop, false, expires, keccak256("shop"))));
        vm.expectEmit(address(rewards));
        emit ICommunityRewards.PartnerRemoved(shop, staff);
        _as(address(rewards), abi.encodeCall(rewards.removePartner, (shop)));
        vm.expectEmit(address(rewards));
        emit ICommunityRewards.CauseSet(1, staff, shop, true, keccak256("cause"));
        _as(address(rewards), abi.encodeCall(rewards.setCause, (1, shop, true, keccak256("cause"))));
        vm.expectEmit(address(rewards));
        emit ICommunityRewards.RewardPolicyUpdated(staff, 12, 7, 55);
        _as(address(rewards), abi.encodeCall(rewards.setRewardPolicy, (ICommunityRewards.RewardPolicy(12, 7, 55))));
    }

    function test_token_pauseNamesTheSigner() public {
        vm.expectEmit(address(token));
        emit Pausable.Paused(staff);
        _as(address(token), abi.encodeCall(token.pause, ()));
        vm.expectEmit(address(token));
        emit Pausable.Unpaused(staff);
        _as(address(token), abi.encodeCall(token.unpause, ()));
    }

    /// @dev Role administration itself: the admin grants and revokes without gas, a staff member
    /// renounces; {RoleGranted}/{RoleRevoked} name who did it. AUDITOR_ROLE opens no function.
    function test_roleAdministration_namesTheSigner() public {
        address auditor = makeAddr("auditor");
        bytes32 auditorRole = registry.AUDITOR_ROLE();
        vm.expectEmit(address(registry));
        emit IAccessControl.RoleGranted(auditorRole, auditor, admin);
        relayAs(adminKey, address(registry), abi.encodeCall(registry.grantRole, (auditorRole, auditor)));
        bytes32 verifierRole = registry.VERIFIER_ROLE();
        vm.prank(auditor);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, auditor, verifierRole));
        registry.verify(0);
        vm.expectEmit(address(registry));
        emit IAccessControl.RoleRevoked(auditorRole, auditor, admin);
        relayAs(adminKey, address(registry), abi.encodeCall(registry.revokeRole, (auditorRole, auditor)));

        vm.expectEmit(address(registry));
        emit IAccessControl.RoleRevoked(verifierRole, staff, staff);
        _as(address(registry), abi.encodeCall(registry.renounceRole, (verifierRole, staff)));
        assertFalse(registry.hasRole(verifierRole, staff));

        bytes32 relayerRole = batcher.RELAYER_ROLE();
        vm.expectEmit(address(batcher));
        emit IAccessControl.RoleGranted(relayerRole, auditor, admin);
        relayAs(adminKey, address(batcher), abi.encodeCall(batcher.grantRole, (relayerRole, auditor)));
    }

    // ------------------------------------------------------------- refusal

    function _staffCalls() internal view returns (Call[] memory c) {
        IPloggingRegistry.CommittedSession memory cs = IPloggingRegistry.CommittedSession(0, 0, staff, 0, new bytes32[](0));
        c = new Call[](32);
        uint256 n;
        (bytes32 verifierRole, bytes32 policy) = (registry.VERIFIER_ROLE(), registry.POLICY_ROLE());
        c[n++] = Call(address(registry), abi.encodeCall(registry.verify, (0)), verifierRole);
        c[n++] = Call(address(registry), abi.encodeCall(registry.reject, (0, 0)), verifierRole);
        c[n++] = Call(address(registry), abi.encodeCall(registry.revoke, (0, 0)), verifierRole);
        c[n++] = Call(address(registry), abi.encodeCall(registry.revokeCommitted, (cs, 0)), verifierRole);
        c[n++] = Call(address(registry), abi.encodeCall(registry.settleClawback, (staff)), verifierRole);
        c[n++] = Call(address(registry), abi.encodeCall(registry.setBounds, (defaultBounds())), policy);
        c[n++] = Call(address(registry), abi.encodeCall(registry.setReward, (IPloggingRegistry.PloggingReward(1, 1))), policy);
        c[n++] = Call(
            address(registry), abi.encodeCall(registry.setThresholds, (IPloggingRegistry.AutoAcceptThresholds(0, 0, 0))), policy
        );
        (bytes32 reviewerRole, bytes32 moderatorRole) = (box.REVIEWER_ROLE(), box.MODERATOR_ROLE());
        c[n++] = Call(address(box), abi.encodeCall(box.startReview, (1)), reviewerRole);
        c[n++] = Call(address(box), abi.encodeCall(box.answer, (1, true, keccak256("a"))), reviewerRole);
        c[n++] = Call(address(box), abi.encodeCall(box.close, (1)), reviewerRole);
        c[n++] = Call(address(box), abi.encodeCall(box.moderate, (1, true, 0)), moderatorRole);
        c[n++] = Call(address(box), abi.encodeCall(box.setCategory, (3, true, "x")), policy);
        c[n++] = Call(address(box), abi.encodeCall(box.setSettings, (IFeedbackBox.Settings(1, 1, 1, 1))), policy);
        c[n++] = Call(address(box), abi.encodeCall(box.setAcceptedReward, (1)), policy);
        (bytes32 campaignRole, bytes32 partnerRole) = (rewards.CAMPAIGN_ROLE(), rewards.PARTNER_MANAGER_ROLE());
        c[n++] = Call(
            address(rewards),
            abi.encodeCall(rewards.createCampaign, (1, 2, ICommunityRewards.CampaignMetric.Sessions, 0, 1, 0)),
            campaignRole
        );
        c[n++] = Call(address(rewards), abi.encodeCall(rewards.reportCampaignProgress, (1, 1)), campaignRole);
        c[n++] = Call(address(rewards), abi.encodeCall(rewards.finalizeCampaign, (1)), campaignRole);
        c[n++] = Call(address(rewards), abi.encodeCall(rewards.cancelCampaign, (1)), campaignRole);
        c[n++] = Call(address(rewards), abi.encodeCall(rewards.setCampaignBonus, (1, keccak256("r"), 1)), campaignRole);
        c[n++] = Call(
            address(rewards), abi.encodeCall(rewards.setRewardPolicy, (ICommunityRewards.RewardPolicy(1, 1, 1))), policy
        );
        c[n++] = Call(address(rewards), abi.encodeCall(rewards.setPartner, (staff, false, 1e10, 0)), partnerRole);
        c[n++] = Call(address(rewards), abi.encodeCall(rewards.removePartner, (staff)), partnerRole);
        c[n++] = Call(address(rewards), abi.encodeCall(rewards.setCause, (1, staff, true, 0)), partnerRole);
        c[n++] = Call(address(token), abi.encodeCall(token.pause, ()), token.PAUSER_ROLE());
        c[n++] = Call(address(token), abi.encodeCall(token.unpause, ()), token.PAUSER_ROLE());
        c[n++] = Call(address(token), abi.encodeCall(token.mint, (staff, 1)), token.MINTER_ROLE());
        c[n++] = Call(address(token), abi.encodeCall(token.burnFrom, (staff, 1)), token.BURNER_ROLE());
        c[n++] = Call(address(token), abi.encodeCall(token.move, (admin, staff, 1)), token.MOVER_ROLE());
        c[n++] = Call(address(batcher), abi.encodeCall(batcher.execute, (new IActionBatcher.Group[](1))), batcher.RELAYER_ROLE());
        c[n++] = Call(address(registry), abi.encodeCall(registry.grantRole, (policy, staff)), registry.DEFAULT_ADMIN_ROLE());
        c[n++] = Call(
            address(registry),
            abi.encodeCall(registry.recordBatch, (new IPloggingRegistry.SignedPloggingSession[](1))),
            registry.RELAYER_ROLE()
        );
        assertEq(n, c.length);
    }

    /// @dev What each target sees when the forwarder relays a signer without the role: the role error
    /// naming the signer (decoded from the forwarder's suffix), never the forwarder or the relayer.
    function test_withoutTheRole_everyStaffFunctionRefusesTheSigner() public {
        address stranger_ = vm.addr(strangerKey);
        Call[] memory calls = _staffCalls();
        for (uint256 i; i < calls.length; ++i) {
            vm.prank(address(forwarder));
            (bool ok, bytes memory ret) = calls[i].target.call(abi.encodePacked(calls[i].data, stranger_));
            assertFalse(ok);
            assertEq(
                ret, abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger_, calls[i].role)
            );
        }
    }

    /// @dev The same through the real forwarder: each request runs (its nonce is used) and its call fails.
    function test_withoutTheRole_relayedRequestsFail() public {
        address stranger_ = vm.addr(strangerKey);
        Call[] memory calls = _staffCalls();
        ERC2771Forwarder.ForwardRequestData[] memory batch = new ERC2771Forwarder.ForwardRequestData[](calls.length);
        for (uint256 i; i < calls.length; ++i) {
            batch[i] = staffRequest(strangerKey, calls[i].target, calls[i].data);
            batch[i].signature = signRequest(strangerKey, batch[i], i);
        }
        for (uint256 i; i < calls.length; ++i) {
            vm.expectEmit(address(forwarder));
            emit ERC2771Forwarder.ExecutedForwardRequest(stranger_, i, false);
        }
        relayBatch(batch);
        assertEq(forwarder.nonces(stranger_), calls.length);
        assertFalse(token.paused());
        assertEq(registry.bounds().maxSessionsPerDay, defaultBounds().maxSessionsPerDay);
    }
}
