// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {Base} from "../Base.t.sol";
import {ParticipationToken} from "../../../contracts/ParticipationToken.sol";
import {PloggingRegistry} from "../../../contracts/PloggingRegistry.sol";
import {CommunityRewards} from "../../../contracts/CommunityRewards.sol";
import {IPloggingRegistry} from "../../../contracts/IPloggingRegistry.sol";
import {ICommunityRewards} from "../../../contracts/ICommunityRewards.sol";

/// @dev Drives the ledger with random residents, nonces, days, revocations, redemptions and
/// unauthorized calls, keeping ghost books to check against.
contract LedgerHandler is Test {
    PloggingRegistry internal registry;
    ParticipationToken internal token;
    CommunityRewards internal rewards;
    address internal relayer;
    address internal verifier;
    address internal partner;
    uint256[5] internal keys;

    uint256 public minted;
    uint256 public burned;
    uint256 public revokedRewards;
    uint256 public revocationBurned;
    uint256 public settled;
    bool public recordedTwice;
    bool public capExceeded;
    bool public nonceReused;
    bool public sessionsOverlapped;
    bool public unauthorizedWorked;
    mapping(bytes32 => bool) public recorded;
    mapping(address => mapping(uint256 => uint256)) public perDay;
    mapping(address => mapping(uint64 => bool)) internal nonceUsed;
    mapping(address => uint64) internal lastEnd;

    struct Committed {
        uint256 batchId;
        bytes32 digest;
        address resident;
        uint256 reward;
    }

    Committed[] internal committed;
    mapping(bytes32 => bool) internal revoked;

    constructor(PloggingRegistry r, ParticipationToken t, CommunityRewards c, address rel, address ver, address p) {
        (registry, token, rewards, relayer, verifier, partner) = (r, t, c, rel, ver, p);
        for (uint256 i; i < 5; ++i) {
            keys[i] = uint256(keccak256(abi.encode("invariant", i))) % type(uint128).max + 1;
        }
    }

    function residents() external view returns (address[5] memory a) {
        for (uint256 i; i < 5; ++i) a[i] = vm.addr(keys[i]);
    }

    /// @dev A session that ended `age` seconds ago (up to six hours: often before a recorded one, or on the
    /// day before). Nonces are small, or now and then next to 2**64, where the replay window must not wrap.
    function plog(uint256 who, uint64 nonce, uint32 trash, bool replay, uint32 age) external {
        uint256 key = keys[who % 5];
        nonce = nonce % 64 == 63 ? type(uint64).max - nonce % 3 : uint64(bound(nonce, 0, 300));
        IPloggingRegistry.PloggingSession memory s = IPloggingRegistry.PloggingSession(
            vm.addr(key), 2_000, 1_200, uint32(bound(trash, 0, 10_000)), 1,
            uint64(block.timestamp) - 1_200 - uint64(bound(age, 0, 6 hours)), keccak256(abi.encode(nonce)), nonce,
            uint64(block.timestamp) + 1 hours
        );
        (uint8 v, bytes32 r, bytes32 sg) = vm.sign(key, registry.digest(s));
        IPloggingRegistry.SignedPloggingSession[] memory b = new IPloggingRegistry.SignedPloggingSession[](replay ? 2 : 1);
        for (uint256 i; i < b.length; ++i) b[i] = IPloggingRegistry.SignedPloggingSession(s, abi.encodePacked(r, sg, v));
        uint256 batchId = registry.batchCount();
        vm.prank(relayer);
        uint256 mask = registry.recordBatch(b);
        if (replay && mask & 2 == 0) recordedTwice = true;
        if (mask & 1 == 0) _recorded(s, batchId);
    }

    /// @dev Books a recorded session in the ghost state, flagging what must never happen.
    function _recorded(IPloggingRegistry.PloggingSession memory s, uint256 batchId) internal {
        bytes32 d = registry.digest(s);
        address resident = s.resident;
        if (recorded[d]) recordedTwice = true;
        recorded[d] = true;
        if (nonceUsed[resident][s.nonce]) nonceReused = true;
        nonceUsed[resident][s.nonce] = true;
        if (s.startedAt < lastEnd[resident]) sessionsOverlapped = true;
        lastEnd[resident] = s.startedAt + s.durationSeconds;
        uint256 reward = uint256(s.distanceMeters) * 10 / 1000 + uint256(s.trashGrams) * 5 / 100;
        minted += reward;
        committed.push(Committed(batchId, d, resident, reward));
        // The caps count the day the session started on, whenever it was submitted.
        if (++perDay[resident][s.startedAt / 1 days] > registry.bounds().maxSessionsPerDay) capExceeded = true;
    }

    function revoke(uint256 index) external {
        if (committed.length == 0) return;
        Committed memory c = committed[index % committed.length];
        if (revoked[c.digest]) return;
        revoked[c.digest] = true;
        uint256 before = token.totalSupply();
        vm.prank(verifier);
        registry.revokeCommitted(IPloggingRegistry.CommittedSession(c.batchId, c.digest, c.resident, c.reward, new bytes32[](0)), 1);
        uint256 b = before - token.totalSupply();
        burned += b;
        revocationBurned += b;
        revokedRewards += c.reward;
    }

    function settle(uint256 who) external {
        address resident = vm.addr(keys[who % 5]);
        if (registry.clawbackDebt(resident) == 0) return;
        uint256 before = token.totalSupply();
        vm.prank(verifier);
        registry.settleClawback(resident);
        settled += before - token.totalSupply();
        burned += before - token.totalSupply();
    }

    function redeem(uint256 who, uint256 amount, uint64 nonce) external {
        uint256 key = keys[who % 5];
        address resident = vm.addr(key);
        ICommunityRewards.Redemption memory rd = ICommunityRewards.Redemption(
            resident, partner, bound(amount, 1, 200), 0, uint64(bound(nonce, 0, 300)), uint64(block.timestamp) + 1 hours
        );
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, rewards.redemptionDigest(rd));
        ICommunityRewards.SignedRedemption[] memory b = new ICommunityRewards.SignedRedemption[](1);
        b[0] = ICommunityRewards.SignedRedemption(rd, abi.encodePacked(r, s, v));
        uint256 before = token.totalSupply();
        vm.prank(relayer);
        rewards.redeemBatch(b);
        burned += before - token.totalSupply(); // the partner burns
    }

    function warp(uint32 secs) external {
        vm.warp(block.timestamp + bound(secs, 1, 2 days));
    }

    /// @dev Random accounts calling role-gated functions: none may succeed.
    function intrude(address who, uint8 which) external {
        if (who == relayer || who == verifier || who == address(rewards) || who == address(registry)) return;
        bool ok;
        vm.startPrank(who);
        if (which % 4 == 0) (ok,) = address(registry).call(abi.encodeCall(registry.recordBatch, (new IPloggingRegistry.SignedPloggingSession[](1))));
        else if (which % 4 == 1) (ok,) = address(token).call(abi.encodeCall(token.mint, (who, 1)));
        else if (which % 4 == 2) (ok,) = address(token).call(abi.encodeCall(token.burnFrom, (vm.addr(keys[0]), 0)));
        else (ok,) = address(registry).call(abi.encodeCall(registry.settleClawback, (vm.addr(keys[0]))));
        vm.stopPrank();
        if (ok) unauthorizedWorked = true;
    }
}

contract LedgerInvariantTest is Base {
    LedgerHandler internal handler;
    address internal partner = makeAddr("partner");

    function setUp() public override {
        super.setUp();
        vm.prank(partnerManager);
        rewards.setPartner(partner, true, type(uint64).max, 0);
        handler = new LedgerHandler(registry, token, rewards, relayer, verifier, partner);
        targetContract(address(handler));
    }

    function invariant_supplyIsMintedMinusBurned() public view {
        assertEq(token.totalSupply(), handler.minted() - handler.burned());
        address[5] memory a = handler.residents();
        uint256 sum = token.balanceOf(partner);
        for (uint256 i; i < 5; ++i) sum += token.balanceOf(a[i]);
        assertEq(sum, token.totalSupply());
    }

    function invariant_noActionRecordedTwice() public view {
        assertFalse(handler.recordedTwice());
    }

    function invariant_dailyCapsHold() public view {
        assertFalse(handler.capExceeded());
    }

    function invariant_noNonceUsedTwice() public view {
        assertFalse(handler.nonceReused());
    }

    function invariant_sessionsOfAResidentNeverOverlap() public view {
        assertFalse(handler.sessionsOverlapped());
    }

    function invariant_onlyRoleHoldersAct() public view {
        assertFalse(handler.unauthorizedWorked());
    }

    /// @dev Every revoked reward was burned, settled later, or is still owed as debt.
    function invariant_revokedRewardsAreGone() public view {
        address[5] memory a = handler.residents();
        uint256 debt;
        for (uint256 i; i < 5; ++i) debt += registry.clawbackDebt(a[i]);
        assertEq(handler.revokedRewards(), handler.revocationBurned() + handler.settled() + debt);
    }
}
