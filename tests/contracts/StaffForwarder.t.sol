// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Errors} from "@openzeppelin/contracts/utils/Errors.sol";
import {Vm} from "forge-std/Vm.sol";
import {Base} from "./Base.t.sol";
import {ICommunityRewards} from "../../contracts/ICommunityRewards.sol";
import {IFeedbackBox} from "../../contracts/IFeedbackBox.sol";
import {IPloggingRegistry} from "../../contracts/IPloggingRegistry.sol";
import {StaffForwarder} from "../../contracts/StaffForwarder.sol";

/// @dev A request can never act as an address that did not sign it: forged `from`, fake ERC-2771
/// suffixes sent straight to a target, replays, expired deadlines, other forwarders, other chains.
contract StaffForwarderTest is Base {
    uint256 internal staffKey = uint256(keccak256("staff member"));
    address internal staff = vm.addr(staffKey);
    uint256 internal otherKey = uint256(keccak256("another staff member"));
    address internal other = vm.addr(otherKey);

    function setUp() public override {
        super.setUp();
        vm.startPrank(admin);
        registry.grantRole(registry.POLICY_ROLE(), staff);
        box.grantRole(box.POLICY_ROLE(), staff);
        vm.stopPrank();
    }

    function _setBounds(uint8 sessionsPerDay) internal view returns (bytes memory) {
        IPloggingRegistry.PloggingBounds memory b = defaultBounds();
        b.maxSessionsPerDay = sessionsPerDay;
        return abi.encodeCall(registry.setBounds, (b));
    }

    function _executed(Vm.Log[] memory logs) internal view returns (uint256 n) {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == address(forwarder) && logs[i].topics[0] == ERC2771Forwarder.ExecutedForwardRequest.selector) {
                ++n;
            }
        }
    }

    // ------------------------------------------------------------- domain and digest

    function test_domainTypeAndDigest() public view {
        (, string memory name, string memory version, uint256 chainId, address verifying,,) = forwarder.eip712Domain();
        assertEq(name, "ESGStaffForwarder");
        assertEq(version, "1");
        assertEq(chainId, block.chainid);
        assertEq(verifying, address(forwarder));
        assertEq(
            keccak256(bytes(forwarder.FORWARD_REQUEST_TYPE())),
            keccak256("ForwardRequest(address from,address to,uint256 value,uint256 gas,uint256 nonce,uint48 deadline,bytes data)")
        );
        ERC2771Forwarder.ForwardRequestData memory r = staffRequest(staffKey, address(registry), _setBounds(9));
        assertEq(forwarder.forwardRequestDigest(asSigned(r, 0)), requestDigest(forwarder, r, 0));
        assertEq(forwarder.forwardRequestDigest(asSigned(r, 5)), requestDigest(forwarder, r, 5));
        assertTrue(forwarder.verify(r));
    }

    function test_everyContractTrustsTheOneForwarder() public view {
        address[5] memory targets = [address(token), address(registry), address(box), address(rewards), address(batcher)];
        for (uint256 i; i < targets.length; ++i) {
            ERC2771Context t = ERC2771Context(targets[i]);
            assertEq(t.trustedForwarder(), address(forwarder));
            assertTrue(t.isTrustedForwarder(address(forwarder)));
            assertFalse(t.isTrustedForwarder(relayer));
        }
    }

    // ------------------------------------------------------------- the signer, and nobody else

    function test_relayed_actsAsTheSigner() public {
        IPloggingRegistry.PloggingBounds memory b = defaultBounds();
        b.maxSessionsPerDay = 9;
        vm.expectEmit(address(registry));
        emit IPloggingRegistry.PloggingBoundsUpdated(staff, b);
        vm.expectEmit(address(forwarder));
        emit ERC2771Forwarder.ExecutedForwardRequest(staff, 0, true);
        relayAs(staffKey, address(registry), _setBounds(9));
        assertEq(registry.bounds().maxSessionsPerDay, 9);
        assertEq(forwarder.nonces(staff), 1);
    }

    function test_forgedFrom_neverExecutes() public {
        // `other` signs a request that claims to come from `staff`.
        ERC2771Forwarder.ForwardRequestData memory r = staffRequest(otherKey, address(registry), _setBounds(9));
        r.from = staff;
        r.signature = signRequest(otherKey, r, 0);
        assertFalse(forwarder.verify(r));
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(ERC2771Forwarder.ERC2771ForwarderInvalidSigner.selector, other, staff));
        forwarder.execute(r);
        // In a batch with a refund receiver it is skipped: no call, no event, no nonce used.
        ERC2771Forwarder.ForwardRequestData[] memory batch = new ERC2771Forwarder.ForwardRequestData[](1);
        batch[0] = r;
        vm.recordLogs();
        relayBatch(batch);
        assertEq(_executed(vm.getRecordedLogs()), 0);
        assertEq(registry.bounds().maxSessionsPerDay, defaultBounds().maxSessionsPerDay);
        assertEq(forwarder.nonces(staff), 0);
        assertEq(forwarder.nonces(other), 0);
    }

    function testFuzz_onlyTheSignerVerifies(uint256 key, address claimed, bytes memory data) public view {
        key = bound(key, 1, SECP256K1_ORDER - 1);
        vm.assume(claimed != vm.addr(key));
        ERC2771Forwarder.ForwardRequestData memory r = staffRequest(key, address(registry), data);
        r.from = claimed;
        r.signature = signRequest(key, r, forwarder.nonces(claimed));
        assertFalse(forwarder.verify(r));
    }

    /// @dev ERC-2771's suffix counts only when the trusted forwarder is the caller: the relayer (or anyone)
    /// appending an address to a direct call is still itself.
    function test_directCallWithFakeSuffix_isTheCaller() public {
        bytes memory spoofed = abi.encodePacked(_setBounds(9), admin);
        vm.prank(relayer);
        (bool ok, bytes memory ret) = address(registry).call(spoofed);
        assertFalse(ok);
        assertEq(
            ret,
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, relayer, registry.POLICY_ROLE())
        );
        // The residents' batch path with a suffix: still the relayer, and still the relayer's batch.
        uint256 key = residentKey(1);
        bytes memory batch = abi.encodePacked(
            abi.encodeCall(registry.recordBatch, (one(signed(key, session(vm.addr(key), 0))))), admin
        );
        vm.prank(relayer);
        (ok, ret) = address(registry).call(batch);
        assertTrue(ok);
        assertEq(abi.decode(ret, (uint256)), 0);
    }

    function testFuzz_directCallWithFakeSuffix_isTheCaller(address caller, address suffix) public {
        vm.assume(caller != address(forwarder) && caller != suffix);
        bytes32 policy = box.POLICY_ROLE();
        vm.prank(admin);
        box.grantRole(policy, caller);
        vm.expectEmit(address(box));
        emit IFeedbackBox.FeedbackCategorySet(9, caller, true, "parks");
        vm.prank(caller);
        (bool ok,) = address(box).call(abi.encodePacked(abi.encodeCall(box.setCategory, (9, true, "parks")), suffix));
        assertTrue(ok);
    }

    // ------------------------------------------------------------- replay, deadline, domain

    function test_replay_refused() public {
        ERC2771Forwarder.ForwardRequestData memory r = staffRequest(staffKey, address(registry), _setBounds(9));
        vm.prank(relayer);
        forwarder.execute(r);
        // The nonce moved on, so the same signature now recovers to somebody else.
        address recovered = ECDSA.recover(requestDigest(forwarder, r, 1), r.signature);
        assertFalse(forwarder.verify(r));
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(ERC2771Forwarder.ERC2771ForwarderInvalidSigner.selector, recovered, staff));
        forwarder.execute(r);
        ERC2771Forwarder.ForwardRequestData[] memory batch = new ERC2771Forwarder.ForwardRequestData[](1);
        batch[0] = r;
        vm.recordLogs();
        relayBatch(batch);
        assertEq(_executed(vm.getRecordedLogs()), 0);
        assertEq(forwarder.nonces(staff), 1);
    }

    function test_expired_refused() public {
        ERC2771Forwarder.ForwardRequestData memory r = staffRequest(staffKey, address(registry), _setBounds(9));
        vm.warp(r.deadline + 1);
        assertFalse(forwarder.verify(r));
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(ERC2771Forwarder.ERC2771ForwarderExpiredRequest.selector, r.deadline));
        forwarder.execute(r);
        // At the deadline itself it still runs.
        vm.warp(r.deadline);
        assertTrue(forwarder.verify(r));
    }

    function test_otherChain_refused() public {
        ERC2771Forwarder.ForwardRequestData memory r = staffRequest(staffKey, address(registry), _setBounds(9));
        vm.chainId(block.chainid + 1);
        assertFalse(forwarder.verify(r));
        vm.prank(relayer);
        vm.expectPartialRevert(ERC2771Forwarder.ERC2771ForwarderInvalidSigner.selector);
        forwarder.execute(r);
    }

    function test_otherForwarder_refused() public {
        StaffForwarder stray = new StaffForwarder();
        // A request signed for the ledger's forwarder is not valid at another one, which no target trusts.
        ERC2771Forwarder.ForwardRequestData memory r = staffRequest(staffKey, address(registry), _setBounds(9));
        assertFalse(stray.verify(r));
        vm.prank(relayer);
        vm.expectRevert(
            abi.encodeWithSelector(ERC2771Forwarder.ERC2771UntrustfulTarget.selector, address(registry), address(stray))
        );
        stray.execute(r);
        // And a request signed for the other forwarder's domain is not valid at the ledger's.
        r.signature = sign(staffKey, requestDigest(stray, r, 0));
        assertFalse(forwarder.verify(r));
        vm.prank(relayer);
        vm.expectPartialRevert(ERC2771Forwarder.ERC2771ForwarderInvalidSigner.selector);
        forwarder.execute(r);
    }

    // ------------------------------------------------------------- failures in a batch

    function test_batch_innerRevertIsSkipped_nonceUsed() public {
        // `other` holds no POLICY_ROLE: their call reverts inside; the staff member's still runs.
        ERC2771Forwarder.ForwardRequestData[] memory batch = new ERC2771Forwarder.ForwardRequestData[](2);
        batch[0] = staffRequest(otherKey, address(registry), _setBounds(7));
        batch[1] = staffRequest(staffKey, address(registry), _setBounds(9));
        vm.expectEmit(address(forwarder));
        emit ERC2771Forwarder.ExecutedForwardRequest(other, 0, false);
        vm.expectEmit(address(forwarder));
        emit ERC2771Forwarder.ExecutedForwardRequest(staff, 0, true);
        relayBatch(batch);
        assertEq(registry.bounds().maxSessionsPerDay, 9);
        assertEq(forwarder.nonces(other), 1);
        // Alone, through execute, the same refusal reverts and keeps the nonce.
        ERC2771Forwarder.ForwardRequestData memory r = staffRequest(otherKey, address(registry), _setBounds(7));
        vm.prank(relayer);
        vm.expectRevert(Errors.FailedCall.selector);
        forwarder.execute(r);
        assertEq(forwarder.nonces(other), 1);
    }

    /// @dev Why the relayer names itself refund receiver: with address(0), one invalid request (expired,
    /// replayed, front-run) reverts the whole batch. A valid request whose call reverts does not (no value).
    function test_batch_zeroRefundReceiver_revertsOnInvalid() public {
        ERC2771Forwarder.ForwardRequestData[] memory batch = new ERC2771Forwarder.ForwardRequestData[](2);
        batch[0] = staffRequest(staffKey, address(registry), _setBounds(9));
        batch[1] = staffRequest(otherKey, address(registry), _setBounds(7));
        batch[1].deadline = uint48(block.timestamp - 1);
        batch[1].signature = signRequest(otherKey, batch[1], 0);
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(ERC2771Forwarder.ERC2771ForwarderExpiredRequest.selector, batch[1].deadline));
        forwarder.executeBatch(batch, payable(address(0)));
        // The same batch with the relayer as refund receiver: the valid request runs, the expired one is skipped.
        vm.recordLogs();
        relayBatch(batch);
        assertEq(_executed(vm.getRecordedLogs()), 1);
        assertEq(registry.bounds().maxSessionsPerDay, 9);
        // A valid request whose call reverts (no role) does not revert a zero-receiver batch.
        batch = new ERC2771Forwarder.ForwardRequestData[](1);
        batch[0] = staffRequest(otherKey, address(registry), _setBounds(7));
        vm.prank(relayer);
        forwarder.executeBatch(batch, payable(address(0)));
        assertEq(forwarder.nonces(other), 1);
    }

    /// @dev The ledger contracts' calls to each other carry the calling contract as sender, never a
    /// suffix: CommunityRewards pushing its policy is CommunityRewards at the registry.
    function test_crossContractCalls_areTheCallingContract() public {
        bytes32 policy = rewards.POLICY_ROLE();
        vm.prank(admin);
        rewards.grantRole(policy, staff);
        vm.expectEmit(address(rewards));
        emit ICommunityRewards.RewardPolicyUpdated(staff, 20, 6, 40);
        vm.expectEmit(address(registry));
        emit IPloggingRegistry.PloggingRewardUpdated(address(rewards), 20, 6);
        vm.expectEmit(address(box));
        emit IFeedbackBox.FeedbackRewardUpdated(address(rewards), 40);
        relayAs(staffKey, address(rewards), abi.encodeCall(rewards.setRewardPolicy, (ICommunityRewards.RewardPolicy(20, 6, 40))));
    }
}
