// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {Base} from "./Base.t.sol";
import {IPloggingRegistry} from "../../contracts/IPloggingRegistry.sol";
import {ISignedActions} from "../../contracts/ISignedActions.sol";
import {ERC1271WalletMock} from "./mocks/ERC1271WalletMock.sol";

contract PloggingRegistryTest is Base {
    uint256 internal aliceKey = residentKey(1);
    address internal alice = vm.addr(aliceKey);

    // ------------------------------------------------------------- signing scheme

    function test_typeStringsAndDomain() public view {
        assertEq(
            registry.PLOGGING_SESSION_TYPE(),
            "PloggingSession(address resident,uint32 distanceMeters,uint32 durationSeconds,uint32 trashGrams,uint32 areaCode,uint64 startedAt,bytes32 evidenceHash,uint64 nonce,uint64 deadline)"
        );
        assertEq(registry.PLOGGING_SESSION_TYPEHASH(), keccak256(bytes(registry.PLOGGING_SESSION_TYPE())));
        bytes32 expected = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("PloggingRegistry"),
                keccak256("1"),
                block.chainid,
                address(registry)
            )
        );
        assertEq(registry.DOMAIN_SEPARATOR(), expected);
    }

    function test_digest_isTypedDataHash() public view {
        IPloggingRegistry.PloggingSession memory s = session(alice, 7);
        bytes32 structHash = keccak256(
            abi.encode(
                registry.PLOGGING_SESSION_TYPEHASH(),
                s.resident, s.distanceMeters, s.durationSeconds, s.trashGrams, s.areaCode, s.startedAt, s.evidenceHash, s.nonce, s.deadline
            )
        );
        assertEq(registry.digest(s), keccak256(abi.encodePacked("\x19\x01", registry.DOMAIN_SEPARATOR(), structHash)));
    }

    // ------------------------------------------------------------- recording

    function test_recordBatch_acceptsAndMints() public {
        IPloggingRegistry.SignedPloggingSession memory e = signed(aliceKey, session(alice, 0));
        bytes32 d = registry.digest(e.session);
        vm.expectEmit(address(registry));
        emit IPloggingRegistry.PloggingRecorded(
            d, alice, 0, 3_200, 1_800, 850, 41_110, e.session.startedAt, e.session.evidenceHash, defaultReward(),
            IPloggingRegistry.SessionStatus.Accepted
        );
        assertEq(record(one(e)), 0);
        assertEq(token.balanceOf(alice), defaultReward());
        assertEq(registry.batchCount(), 1);
        (uint64 next, uint128 window) = registry.nonceWindow(alice);
        assertEq(next, 1);
        assertEq(window, 1);
        assertFalse(registry.isNonceUsable(alice, 0));
    }

    function test_recordBatch_commitsMerkleRoot() public {
        IPloggingRegistry.SignedPloggingSession[] memory b = new IPloggingRegistry.SignedPloggingSession[](3);
        bytes32[] memory leaves = new bytes32[](3);
        for (uint256 i; i < 3; ++i) {
            uint256 key = residentKey(10 + i);
            b[i] = signed(key, session(vm.addr(key), 0));
            leaves[i] = keccak256(abi.encode(registry.digest(b[i].session), vm.addr(key), defaultReward()));
        }
        (bytes32 root,) = merkle(leaves, 0);
        vm.expectEmit(address(registry));
        emit IPloggingRegistry.PloggingBatchCommitted(0, root, 3);
        record(b);
        assertEq(registry.batchRoot(0), root);
        assertEq(registry.batchRoot(1), bytes32(0));
    }

    function test_recordBatch_failureIsolation() public {
        IPloggingRegistry.SignedPloggingSession[] memory b = new IPloggingRegistry.SignedPloggingSession[](3);
        b[0] = signed(aliceKey, session(alice, 0));
        b[1] = signed(aliceKey, session(alice, 0)); // replay inside the batch
        b[2] = signed(aliceKey, sessionAt(alice, 1, uint64(block.timestamp) - 1_800)); // starts as b[0] ends
        vm.expectEmit(address(registry));
        emit ISignedActions.ActionFailed(
            registry.digest(b[1].session), alice, 0, abi.encodeWithSelector(ISignedActions.SignedActionsNonceUsed.selector, alice, 0)
        );
        assertEq(record(b), 2);
        assertEq(token.balanceOf(alice), 2 * defaultReward());
    }

    function _expectFailure(IPloggingRegistry.SignedPloggingSession memory e, bytes memory reason) internal {
        vm.expectEmit(address(registry));
        emit ISignedActions.ActionFailed(registry.digest(e.session), e.session.resident, e.session.nonce, reason);
        assertEq(record(one(e)), 1);
        assertEq(registry.check(e), reason);
    }

    function test_error_durationOutOfBounds() public {
        IPloggingRegistry.PloggingSession memory s = session(alice, 0);
        s.durationSeconds = 30;
        _expectFailure(signed(aliceKey, s), abi.encodeWithSelector(IPloggingRegistry.PloggingRegistryDurationOutOfBounds.selector, 30, 60, 4 hours));
    }

    function test_error_distanceTooLong() public {
        IPloggingRegistry.PloggingSession memory s = session(alice, 0);
        s.distanceMeters = 30_001;
        s.durationSeconds = 3 hours;
        s.startedAt = uint64(block.timestamp) - 3 hours;
        _expectFailure(signed(aliceKey, s), abi.encodeWithSelector(IPloggingRegistry.PloggingRegistryDistanceTooLong.selector, 30_001, 30_000));
    }

    function test_error_tooFast() public {
        IPloggingRegistry.PloggingSession memory s = session(alice, 0);
        s.distanceMeters = 10_000; // 10 km in 30 min: 5.55 m/s > 4 m/s
        _expectFailure(signed(aliceKey, s), abi.encodeWithSelector(IPloggingRegistry.PloggingRegistryTooFast.selector, 10_000, 1_800, 400));
    }

    function test_error_tooMuchTrash() public {
        IPloggingRegistry.PloggingSession memory s = session(alice, 0);
        s.trashGrams = 10_001;
        _expectFailure(signed(aliceKey, s), abi.encodeWithSelector(IPloggingRegistry.PloggingRegistryTooMuchTrash.selector, 10_001, 10_000));
    }

    function test_error_startOutOfRange() public {
        IPloggingRegistry.PloggingSession memory s = session(alice, 0);
        s.startedAt = uint64(block.timestamp); // ends in the future
        uint64 now_ = uint64(block.timestamp);
        _expectFailure(
            signed(aliceKey, s),
            abi.encodeWithSelector(IPloggingRegistry.PloggingRegistryStartOutOfRange.selector, now_, now_ - 7 days, now_ - 1_800)
        );
        s.startedAt = now_ - 8 days;
        _expectFailure(
            signed(aliceKey, s),
            abi.encodeWithSelector(IPloggingRegistry.PloggingRegistryStartOutOfRange.selector, now_ - 8 days, now_ - 7 days, now_ - 1_800)
        );
    }

    function test_error_dailySessionsExceeded() public {
        uint64 t = uint64(block.timestamp);
        for (uint64 i; i < 5; ++i) plogAt(aliceKey, i, t - 6 hours + i * 1 hours);
        _expectFailure(
            signed(aliceKey, sessionAt(alice, 5, t - 1 hours)),
            abi.encodeWithSelector(IPloggingRegistry.PloggingRegistryDailySessionsExceeded.selector, alice, 5)
        );
        vm.warp(block.timestamp + 1 days);
        plog(aliceKey, 5); // a new day resets the counter
    }

    function test_error_dailyTrashExceeded() public {
        IPloggingRegistry.PloggingSession memory s = sessionAt(alice, 0, uint64(block.timestamp) - 3 hours);
        s.trashGrams = 10_000;
        assertEq(record(one(signed(aliceKey, s))), 0);
        s.nonce = 1;
        s.startedAt += 1 hours;
        assertEq(record(one(signed(aliceKey, s))), 0);
        s.nonce = 2;
        s.startedAt += 1 hours;
        s.trashGrams = 1;
        _expectFailure(signed(aliceKey, s), abi.encodeWithSelector(IPloggingRegistry.PloggingRegistryDailyTrashExceeded.selector, alice, 20_000));
    }

    function test_error_nonceTooOld() public {
        plog(aliceKey, 200);
        // The window is 88 nonces: 201 - 88 = 113 is the oldest usable one.
        _expectFailure(
            signed(aliceKey, session(alice, 112)),
            abi.encodeWithSelector(ISignedActions.SignedActionsNonceTooOld.selector, alice, 112, 113)
        );
        plogAt(aliceKey, 113, uint64(block.timestamp) - 1_800); // the oldest usable nonce
    }

    function test_error_nonceExhausted() public {
        uint64 top = type(uint64).max;
        _expectFailure(
            signed(aliceKey, session(alice, top)),
            abi.encodeWithSelector(ISignedActions.SignedActionsNonceExhausted.selector, alice, top)
        );
        plog(aliceKey, top - 1);
        (uint64 next,) = registry.nonceWindow(alice);
        assertEq(next, top);
        // Nonce 2**64 - 1 would have set next to 2**64, i.e. 0, and reopened every nonce.
        _expectFailure(
            signed(aliceKey, sessionAt(alice, top, uint64(block.timestamp) - 1_800)),
            abi.encodeWithSelector(ISignedActions.SignedActionsNonceExhausted.selector, alice, top)
        );
        assertFalse(registry.isNonceUsable(alice, top));
        assertFalse(registry.isNonceUsable(alice, top - 1));
        (next,) = registry.nonceWindow(alice);
        assertEq(next, top);
    }

    function test_error_expired() public {
        IPloggingRegistry.PloggingSession memory s = session(alice, 0);
        s.deadline = uint64(block.timestamp) - 1;
        _expectFailure(
            signed(aliceKey, s), abi.encodeWithSelector(ISignedActions.SignedActionsExpired.selector, s.deadline, uint64(block.timestamp))
        );
    }

    function test_error_invalidSignature() public {
        IPloggingRegistry.SignedPloggingSession memory e = signed(residentKey(2), session(alice, 0));
        _expectFailure(e, abi.encodeWithSelector(ISignedActions.SignedActionsInvalidSignature.selector, alice, registry.digest(e.session)));
        e.signature = hex"1234";
        _expectFailure(e, abi.encodeWithSelector(ISignedActions.SignedActionsInvalidSignature.selector, alice, registry.digest(e.session)));
    }

    function test_error_zeroResidentNeverValid() public {
        IPloggingRegistry.SignedPloggingSession memory e = signed(aliceKey, session(address(0), 0));
        e.signature[64] = bytes1(uint8(29)); // ecrecover fails
        _expectFailure(e, abi.encodeWithSelector(ISignedActions.SignedActionsInvalidSignature.selector, address(0), registry.digest(e.session)));
    }

    function test_error_malleableSignatureRejected() public {
        IPloggingRegistry.SignedPloggingSession memory e = signed(aliceKey, session(alice, 0));
        bytes memory sig = e.signature;
        bytes32 r;
        bytes32 s;
        assembly {
            r := mload(add(sig, 32))
            s := mload(add(sig, 64))
        }
        uint8 v = uint8(sig[64]);
        uint256 n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
        e.signature = abi.encodePacked(r, bytes32(n - uint256(s)), v == 27 ? uint8(28) : uint8(27));
        _expectFailure(e, abi.encodeWithSelector(ISignedActions.SignedActionsInvalidSignature.selector, alice, registry.digest(e.session)));
    }

    function test_error_batchSize() public {
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(ISignedActions.SignedActionsBatchSize.selector, 0, 100));
        registry.recordBatch(new IPloggingRegistry.SignedPloggingSession[](0));
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(ISignedActions.SignedActionsBatchSize.selector, 101, 100));
        registry.recordBatch(new IPloggingRegistry.SignedPloggingSession[](101));
    }

    function test_error_malformedAction() public {
        bytes memory data = abi.encodeCall(registry.recordBatch, (one(signed(aliceKey, session(alice, 0)))));
        // 4 (selector) + 32 (array offset) + 32 (length) + 32 (element offset) = the session's first word.
        data[4 + 96 + 2] = 0x01; // a dirty high byte in the resident address
        vm.prank(relayer);
        (bool ok, bytes memory ret) = address(registry).call(data);
        assertFalse(ok);
        assertEq(ret, abi.encodeWithSelector(ISignedActions.SignedActionsMalformedAction.selector, 0));
    }

    function test_recordBatch_onlyRelayer() public {
        IPloggingRegistry.SignedPloggingSession[] memory b = one(signed(aliceKey, session(alice, 0)));
        bytes32 role = registry.RELAYER_ROLE();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role));
        registry.recordBatch(b);
    }

    function test_recordBatch_revertsWhilePaused() public {
        IPloggingRegistry.SignedPloggingSession[] memory b = one(signed(aliceKey, session(alice, 0)));
        vm.prank(admin);
        token.pause();
        vm.prank(relayer);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        registry.recordBatch(b);
        assertTrue(registry.isNonceUsable(alice, 0)); // nothing was used up
    }

    function test_outOfOrderNoncesWithinWindow() public {
        uint64 t = uint64(block.timestamp);
        plogAt(aliceKey, 5, t - 4 hours);
        plogAt(aliceKey, 3, t - 3 hours);
        plogAt(aliceKey, 4, t - 2 hours);
        vm.warp(block.timestamp + 1 days);
        plog(aliceKey, 0);
        assertFalse(registry.isNonceUsable(alice, 3));
        assertTrue(registry.isNonceUsable(alice, 1));
    }

    // ------------------------------------------------------------- chronological order, the session's day

    function _overlaps(uint64 startedAt, uint64 previousEnd) internal view returns (bytes memory) {
        return abi.encodeWithSelector(IPloggingRegistry.PloggingRegistrySessionOverlaps.selector, alice, startedAt, previousEnd);
    }

    function test_error_sessionOverlaps() public {
        uint64 t = uint64(block.timestamp);
        plogAt(aliceKey, 0, t - 3 hours);
        uint64 end = t - 3 hours + 1_800;
        // One second before the first session ended, inside it, or before it (out of order): all refused.
        _expectFailure(signed(aliceKey, sessionAt(alice, 1, end - 1)), _overlaps(end - 1, end));
        _expectFailure(signed(aliceKey, sessionAt(alice, 1, t - 3 hours)), _overlaps(t - 3 hours, end));
        _expectFailure(signed(aliceKey, sessionAt(alice, 1, t - 4 hours)), _overlaps(t - 4 hours, end));
        assertTrue(registry.isNonceUsable(alice, 1));
        // Back to back is fine, and another resident's sessions are their own.
        plogAt(aliceKey, 1, end);
        plogAt(residentKey(2), 0, t - 3 hours);
        _expectFailure(signed(aliceKey, sessionAt(alice, 2, end)), _overlaps(end, end + 1_800));
    }

    function test_sessionOverlaps_failsAloneInBatch() public {
        uint256 bobKey = residentKey(2);
        uint64 t = uint64(block.timestamp);
        IPloggingRegistry.SignedPloggingSession[] memory b = new IPloggingRegistry.SignedPloggingSession[](4);
        b[0] = signed(aliceKey, sessionAt(alice, 0, t - 3 hours));
        b[1] = signed(aliceKey, sessionAt(alice, 1, t - 3 hours + 10 minutes)); // overlaps b[0]
        b[2] = signed(bobKey, sessionAt(vm.addr(bobKey), 0, t - 3 hours));
        b[3] = signed(aliceKey, sessionAt(alice, 2, t - 2 hours));
        vm.expectEmit(address(registry));
        emit ISignedActions.ActionFailed(
            registry.digest(b[1].session), alice, 1, _overlaps(t - 3 hours + 10 minutes, t - 3 hours + 1_800)
        );
        assertEq(record(b), 1 << 1);
        assertEq(token.balanceOf(alice), 2 * defaultReward());
        assertEq(token.balanceOf(vm.addr(bobKey)), defaultReward());
        assertTrue(registry.isNonceUsable(alice, 1)); // the failed entry used nothing up
    }

    /// @dev The exploit the day of the session closes: the day's sessions, submitted just after midnight.
    function test_dailyCap_countsSessionDay_notSubmissionDay() public {
        uint64 day = uint64(block.timestamp) / 1 days * 1 days;
        for (uint64 i; i < 5; ++i) plogAt(aliceKey, i, day + 8 hours + i * 1 hours);
        vm.warp(day + 1 days + 1 minutes);
        _expectFailure(
            signed(aliceKey, sessionAt(alice, 5, day + 23 hours)),
            abi.encodeWithSelector(IPloggingRegistry.PloggingRegistryDailySessionsExceeded.selector, alice, 5)
        );
        vm.warp(day + 1 days + 2 hours);
        plogAt(aliceKey, 5, day + 1 days + 1 hours); // the new day has its own cap
    }

    function test_dailyTrashCap_countsSessionDay_notSubmissionDay() public {
        uint64 day = uint64(block.timestamp) / 1 days * 1 days;
        IPloggingRegistry.PloggingSession memory s = sessionAt(alice, 0, day + 8 hours);
        s.trashGrams = 10_000;
        assertEq(record(one(signed(aliceKey, s))), 0);
        (s.nonce, s.startedAt) = (1, day + 9 hours);
        assertEq(record(one(signed(aliceKey, s))), 0);
        vm.warp(day + 1 days + 1 minutes);
        (s.nonce, s.startedAt, s.trashGrams) = (2, day + 23 hours, 1);
        s.deadline = uint64(block.timestamp) + 1 hours;
        _expectFailure(
            signed(aliceKey, s), abi.encodeWithSelector(IPloggingRegistry.PloggingRegistryDailyTrashExceeded.selector, alice, 20_000)
        );
        vm.warp(day + 1 days + 2 hours);
        (s.startedAt, s.trashGrams, s.deadline) = (day + 1 days + 1 hours, 10_000, uint64(block.timestamp) + 1 hours);
        assertEq(record(one(signed(aliceKey, s))), 0); // the new day has its own cap
    }

    /// @dev Sessions uploaded late count for the day they took place on, not the day they arrive.
    function test_dailyCap_lateUploadsCountForTheirOwnDay() public {
        uint64 day = uint64(block.timestamp) / 1 days * 1 days;
        vm.warp(day + 1 days + 3 hours);
        for (uint64 i; i < 5; ++i) plogAt(aliceKey, i, day + 18 hours + i * 1 hours);
        for (uint64 i; i < 5; ++i) plogAt(aliceKey, 5 + i, day + 1 days + i * 30 minutes);
        _expectFailure(
            signed(aliceKey, sessionAt(alice, 10, day + 1 days + 150 minutes)),
            abi.encodeWithSelector(IPloggingRegistry.PloggingRegistryDailySessionsExceeded.selector, alice, 5)
        );
        assertEq(token.balanceOf(alice), 10 * defaultReward());
    }

    /// @dev A second session is recorded exactly when it starts at or after the first one's end.
    function testFuzz_overlapRefused(uint32 duration1, uint32 offset, uint32 duration2) public {
        duration1 = uint32(bound(duration1, 60, 4 hours));
        offset = uint32(bound(offset, 0, 8 hours));
        duration2 = uint32(bound(duration2, 60, 4 hours));
        uint64 start1 = uint64(block.timestamp) - 12 hours;
        IPloggingRegistry.PloggingSession memory s = sessionAt(alice, 0, start1);
        (s.durationSeconds, s.distanceMeters) = (duration1, 0);
        assertEq(record(one(signed(aliceKey, s))), 0);
        (s.nonce, s.startedAt, s.durationSeconds) = (1, start1 + offset, duration2);
        IPloggingRegistry.SignedPloggingSession memory e = signed(aliceKey, s);
        bool ok = offset >= duration1;
        assertEq(registry.check(e), ok ? bytes("") : _overlaps(start1 + offset, start1 + duration1));
        assertEq(record(one(e)), ok ? 0 : 1);
    }

    /// @dev Any sequence of sessions, each submitted whenever (up to a day and a half after it ended), is
    /// recorded exactly as a model says: in chronological order only, capped per day of `startedAt`.
    function testFuzz_capsCountSessionDay(
        uint32[12] memory gaps,
        uint32[12] memory durations,
        uint16[12] memory trash,
        uint32[12] memory delays
    ) public {
        uint64 start = uint64(block.timestamp) - 3 days;
        uint64 firstDay = start / 1 days;
        uint64 lastEnd;
        uint256[8] memory count;
        uint256[8] memory grams;
        for (uint64 i; i < 12; ++i) {
            start += uint64(bound(gaps[i], 0, 8 hours));
            IPloggingRegistry.PloggingSession memory s = sessionAt(alice, i, start);
            s.durationSeconds = uint32(bound(durations[i], 60, 4 hours));
            s.trashGrams = uint32(bound(trash[i], 0, 10_000));
            s.distanceMeters = 0;
            uint64 submitAt = start + s.durationSeconds + uint64(bound(delays[i], 0, 36 hours));
            if (submitAt > vm.getBlockTimestamp()) vm.warp(submitAt);
            s.deadline = uint64(block.timestamp) + 1 hours;
            uint256 d = start / 1 days - firstDay;
            bool expected = start >= lastEnd && count[d] < 5 && grams[d] + s.trashGrams <= 20_000;
            assertEq(record(one(signed(aliceKey, s))) == 0, expected);
            if (expected) {
                lastEnd = start + s.durationSeconds;
                ++count[d];
                grams[d] += s.trashGrams;
            }
        }
    }

    // ------------------------------------------------------------- ERC-1271 wallets

    function test_erc1271Wallet() public {
        ERC1271WalletMock wallet = new ERC1271WalletMock(alice);
        IPloggingRegistry.PloggingSession memory s = session(address(wallet), 0);
        assertEq(record(one(signed(aliceKey, s))), 0);
        assertEq(token.balanceOf(address(wallet)), defaultReward());
        // A wrong owner's signature fails.
        s.nonce = 1;
        s.startedAt += s.durationSeconds;
        IPloggingRegistry.SignedPloggingSession memory e = signed(residentKey(3), s);
        _expectFailure(e, abi.encodeWithSelector(ISignedActions.SignedActionsInvalidSignature.selector, address(wallet), registry.digest(s)));
    }

    function test_erc1271Wallet_gasCappedAndReturnBombIgnored() public {
        ERC1271WalletMock wallet = new ERC1271WalletMock(alice);
        wallet.setBurnGas(registry.ERC1271_GAS_LIMIT() + 1);
        IPloggingRegistry.SignedPloggingSession memory e = signed(aliceKey, session(address(wallet), 0));
        _expectFailure(e, abi.encodeWithSelector(ISignedActions.SignedActionsInvalidSignature.selector, address(wallet), registry.digest(e.session)));
        wallet.setBurnGas(0);
        wallet.setReturnBomb(true);
        vm.expectEmit(address(registry));
        emit IPloggingRegistry.PloggingBatchCommitted(0, keccak256(abi.encode(registry.digest(e.session), address(wallet), defaultReward())), 1);
        assertEq(record(one(e)), 0);
    }

    // ------------------------------------------------------------- pending, verify, reject, revoke

    function _pendingSession() internal returns (bytes32 d) {
        vm.prank(admin);
        registry.setThresholds(IPloggingRegistry.AutoAcceptThresholds(3_000, 10_000, 1_000));
        IPloggingRegistry.SignedPloggingSession memory e = signed(aliceKey, session(alice, 0));
        d = registry.digest(e.session);
        vm.expectEmit(address(registry));
        emit IPloggingRegistry.PloggingRecorded(
            d, alice, 0, 3_200, 1_800, 850, 41_110, e.session.startedAt, e.session.evidenceHash, defaultReward(),
            IPloggingRegistry.SessionStatus.Pending
        );
        assertEq(record(one(e)), 0);
        assertEq(token.balanceOf(alice), 0);
        assertEq(registry.batchCount(), 0);
    }

    function test_pending_verify() public {
        bytes32 d = _pendingSession();
        vm.expectEmit(address(registry));
        emit IPloggingRegistry.PloggingVerified(d, alice, verifier, defaultReward(), defaultReward());
        vm.prank(verifier);
        registry.verify(d);
        assertEq(token.balanceOf(alice), defaultReward());
        assertEq(uint8(registry.storedSession(d).status), uint8(IPloggingRegistry.SessionStatus.Accepted));
        vm.prank(verifier);
        vm.expectRevert(abi.encodeWithSelector(IPloggingRegistry.PloggingRegistryWrongStatus.selector, d, IPloggingRegistry.SessionStatus.Accepted));
        registry.verify(d);
    }

    function test_pending_reject() public {
        bytes32 d = _pendingSession();
        vm.expectEmit(address(registry));
        emit IPloggingRegistry.PloggingRejected(d, alice, verifier, 7);
        vm.prank(verifier);
        registry.reject(d, 7);
        assertEq(token.balanceOf(alice), 0);
        vm.prank(verifier);
        vm.expectRevert(abi.encodeWithSelector(IPloggingRegistry.PloggingRegistryWrongStatus.selector, d, IPloggingRegistry.SessionStatus.Rejected));
        registry.verify(d);
    }

    function test_unknownSession() public {
        vm.startPrank(verifier);
        vm.expectRevert(abi.encodeWithSelector(IPloggingRegistry.PloggingRegistryUnknownSession.selector, bytes32(uint256(1))));
        registry.verify(bytes32(uint256(1)));
        vm.expectRevert(abi.encodeWithSelector(IPloggingRegistry.PloggingRegistryUnknownSession.selector, bytes32(uint256(1))));
        registry.reject(bytes32(uint256(1)), 0);
        vm.expectRevert(abi.encodeWithSelector(IPloggingRegistry.PloggingRegistryUnknownSession.selector, bytes32(uint256(1))));
        registry.revoke(bytes32(uint256(1)), 0);
        vm.stopPrank();
    }

    function test_revoke_verifiedSession() public {
        bytes32 d = _pendingSession();
        vm.startPrank(verifier);
        registry.verify(d);
        vm.expectEmit(address(registry));
        emit IPloggingRegistry.PloggingRevoked(d, alice, verifier, 3, defaultReward(), defaultReward());
        registry.revoke(d, 3);
        vm.stopPrank();
        assertEq(token.balanceOf(alice), 0);
        assertEq(uint8(registry.storedSession(d).status), uint8(IPloggingRegistry.SessionStatus.Revoked));
    }

    function _commitThree() internal returns (bytes32[] memory digests, bytes32[] memory leaves) {
        IPloggingRegistry.SignedPloggingSession[] memory b = new IPloggingRegistry.SignedPloggingSession[](3);
        digests = new bytes32[](3);
        leaves = new bytes32[](3);
        for (uint256 i; i < 3; ++i) {
            uint256 key = i == 1 ? aliceKey : residentKey(20 + i);
            b[i] = signed(key, session(vm.addr(key), 0));
            digests[i] = registry.digest(b[i].session);
            leaves[i] = keccak256(abi.encode(digests[i], vm.addr(key), defaultReward()));
        }
        record(b);
    }

    function test_revokeCommitted_burnsReward() public {
        (bytes32[] memory digests, bytes32[] memory leaves) = _commitThree();
        (, bytes32[] memory proof) = merkle(leaves, 1);
        IPloggingRegistry.CommittedSession memory cs = IPloggingRegistry.CommittedSession(0, digests[1], alice, defaultReward(), proof);
        vm.expectEmit(address(registry));
        emit IPloggingRegistry.PloggingRevoked(digests[1], alice, verifier, 9, defaultReward(), defaultReward());
        vm.prank(verifier);
        registry.revokeCommitted(cs, 9);
        assertEq(token.balanceOf(alice), 0);
        vm.prank(verifier);
        vm.expectRevert(abi.encodeWithSelector(IPloggingRegistry.PloggingRegistryWrongStatus.selector, digests[1], IPloggingRegistry.SessionStatus.Revoked));
        registry.revokeCommitted(cs, 9);
    }

    function test_revokeCommitted_errors() public {
        (bytes32[] memory digests, bytes32[] memory leaves) = _commitThree();
        (, bytes32[] memory proof) = merkle(leaves, 1);
        IPloggingRegistry.CommittedSession memory cs = IPloggingRegistry.CommittedSession(1, digests[1], alice, defaultReward(), proof);
        vm.startPrank(verifier);
        vm.expectRevert(abi.encodeWithSelector(IPloggingRegistry.PloggingRegistryUnknownBatch.selector, 1));
        registry.revokeCommitted(cs, 0);
        cs.batchId = 0;
        cs.reward = defaultReward() + 1; // a bigger reward than was committed
        vm.expectRevert(abi.encodeWithSelector(IPloggingRegistry.PloggingRegistryInvalidProof.selector, 0, digests[1]));
        registry.revokeCommitted(cs, 0);
        vm.stopPrank();
    }

    function test_revoke_shortfallBecomesDebt_settledAndPaidByVerify() public {
        (bytes32[] memory digests, bytes32[] memory leaves) = _commitThree();
        // Alice spends most of her points first (a redemption, by burn).
        vm.prank(address(registry));
        token.burnFrom(alice, 70);
        (, bytes32[] memory proof) = merkle(leaves, 1);
        vm.prank(verifier);
        registry.revokeCommitted(IPloggingRegistry.CommittedSession(0, digests[1], alice, defaultReward(), proof), 1);
        assertEq(token.balanceOf(alice), 0);
        assertEq(registry.clawbackDebt(alice), 70);
        vm.prank(verifier);
        vm.expectRevert(abi.encodeWithSelector(IPloggingRegistry.PloggingRegistryNoDebt.selector, stranger));
        registry.settleClawback(stranger);
        // New points settle part of the debt.
        fund(alice, 30);
        vm.expectEmit(address(registry));
        emit IPloggingRegistry.PloggingClawbackSettled(alice, verifier, 30, 40);
        vm.prank(verifier);
        registry.settleClawback(alice);
        // A verified pending reward pays the rest first.
        vm.warp(block.timestamp + 1 days);
        vm.prank(admin);
        registry.setThresholds(IPloggingRegistry.AutoAcceptThresholds(0, 0, 0));
        bytes32 d = plog(aliceKey, 1);
        vm.expectEmit(address(registry));
        emit IPloggingRegistry.PloggingVerified(d, alice, verifier, defaultReward(), defaultReward() - 40);
        vm.prank(verifier);
        registry.verify(d);
        assertEq(registry.clawbackDebt(alice), 0);
        assertEq(token.balanceOf(alice), defaultReward() - 40);
    }

    function test_verifierFunctions_onlyVerifier() public {
        bytes32 role = registry.VERIFIER_ROLE();
        vm.startPrank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role));
        registry.verify(0);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role));
        registry.reject(0, 0);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role));
        registry.revoke(0, 0);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role));
        registry.revokeCommitted(IPloggingRegistry.CommittedSession(0, 0, alice, 0, new bytes32[](0)), 0);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role));
        registry.settleClawback(alice);
        vm.stopPrank();
    }

    // ------------------------------------------------------------- policy

    function test_setters_emitAndValidate() public {
        IPloggingRegistry.PloggingBounds memory b = defaultBounds();
        b.maxSessionsPerDay = 9;
        vm.startPrank(admin);
        vm.expectEmit(address(registry));
        emit IPloggingRegistry.PloggingBoundsUpdated(admin, b);
        registry.setBounds(b);
        assertEq(registry.bounds().maxSessionsPerDay, 9);
        b.minDurationSeconds = b.maxDurationSeconds + 1;
        vm.expectRevert(IPloggingRegistry.PloggingRegistryInvalidBounds.selector);
        registry.setBounds(b);

        vm.expectEmit(address(registry));
        emit IPloggingRegistry.PloggingRewardUpdated(admin, 20, 7);
        registry.setReward(IPloggingRegistry.PloggingReward(20, 7));
        assertEq(registry.reward().perKm, 20);
        uint64 max = registry.MAX_RATE();
        vm.expectRevert(abi.encodeWithSelector(IPloggingRegistry.PloggingRegistryRateTooHigh.selector, max + 1, 0, max));
        registry.setReward(IPloggingRegistry.PloggingReward(max + 1, 0));

        IPloggingRegistry.AutoAcceptThresholds memory t = IPloggingRegistry.AutoAcceptThresholds(1, 2, 3);
        vm.expectEmit(address(registry));
        emit IPloggingRegistry.PloggingThresholdsUpdated(admin, t);
        registry.setThresholds(t);
        assertEq(registry.thresholds().maxReward, 3);
        vm.stopPrank();

        bytes32 role = registry.POLICY_ROLE();
        vm.startPrank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role));
        registry.setBounds(b);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role));
        registry.setReward(IPloggingRegistry.PloggingReward(1, 1));
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role));
        registry.setThresholds(t);
        vm.stopPrank();
        assertEq(address(registry.token()), address(token));
    }

    // ------------------------------------------------------------- fuzz

    /// @dev Any session is recorded exactly when it is within every bound, and never twice.
    function testFuzz_bounds(uint32 distance, uint32 duration, uint32 trash, uint32 age) public {
        distance = uint32(bound(distance, 0, 40_000));
        duration = uint32(bound(duration, 1, 5 hours));
        trash = uint32(bound(trash, 0, 12_000));
        age = uint32(bound(age, 0, 8 days));
        IPloggingRegistry.PloggingSession memory s = session(alice, 0);
        (s.distanceMeters, s.durationSeconds, s.trashGrams) = (distance, duration, trash);
        s.startedAt = uint64(block.timestamp) - age;
        bool valid = duration >= 60 && duration <= 4 hours && distance <= 30_000 && uint256(distance) * 100 <= uint256(duration) * 400
            && trash <= 10_000 && age <= 7 days && age >= duration;
        IPloggingRegistry.SignedPloggingSession memory e = signed(aliceKey, s);
        assertEq(registry.check(e).length == 0, valid);
        assertEq(record(one(e)), valid ? 0 : 1);
        uint256 expected = valid ? uint256(distance) * 10 / 1000 + uint256(trash) * 5 / 100 : 0;
        assertEq(token.balanceOf(alice), expected);
        assertEq(record(one(e)), 1); // never twice
        assertEq(token.balanceOf(alice), expected);
    }

    /// @dev Nonces within the window work in any order; a replay always fails; below the window fails.
    function testFuzz_nonceWindow(uint64 high, uint8 back) public {
        high = uint64(bound(high, 0, type(uint64).max - 1));
        plog(aliceKey, high);
        uint64 n = high >= back ? high - back : 0;
        bool usable = n != high && high - n < 88;
        assertEq(registry.isNonceUsable(alice, n), usable);
        IPloggingRegistry.SignedPloggingSession memory e = signed(aliceKey, sessionAt(alice, n, uint64(block.timestamp) - 1_800));
        assertEq(record(one(e)), usable ? 0 : 1);
        assertEq(record(one(e)), 1);
        if (high >= 88) {
            assertFalse(registry.isNonceUsable(alice, high - 88));
        }
    }

    /// @dev The daily session cap holds for any number of tries in a day.
    function testFuzz_dailyCap(uint8 tries) public {
        tries = uint8(bound(tries, 1, 12));
        uint256 ok;
        for (uint64 i; i < tries; ++i) {
            uint64 start = uint64(block.timestamp) - 7 hours + i * 30 minutes;
            if (record(one(signed(aliceKey, sessionAt(alice, i, start)))) == 0) ++ok;
        }
        assertEq(ok, tries < 5 ? tries : 5);
    }

    /// @dev Any signature but the resident's fails, and records nothing.
    function testFuzz_signature(uint256 otherKey, bytes memory junk) public {
        otherKey = bound(otherKey, 1, type(uint128).max);
        vm.assume(otherKey != aliceKey);
        IPloggingRegistry.SignedPloggingSession memory e = signed(otherKey, session(alice, 0));
        assertEq(record(one(e)), 1);
        e.signature = junk;
        assertEq(record(one(e)), 1);
        assertTrue(registry.isNonceUsable(alice, 0));
    }
}
