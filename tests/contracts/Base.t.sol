// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";
import {ParticipationToken} from "../../contracts/ParticipationToken.sol";
import {PloggingRegistry} from "../../contracts/PloggingRegistry.sol";
import {IPloggingRegistry} from "../../contracts/IPloggingRegistry.sol";
import {FeedbackBox} from "../../contracts/FeedbackBox.sol";
import {IFeedbackBox} from "../../contracts/IFeedbackBox.sol";
import {CommunityRewards} from "../../contracts/CommunityRewards.sol";
import {ICommunityRewards} from "../../contracts/ICommunityRewards.sol";
import {ActionBatcher} from "../../contracts/ActionBatcher.sol";
import {StaffForwarder} from "../../contracts/StaffForwarder.sol";
import {IStaffForwarder} from "../../contracts/IStaffForwarder.sol";

/// @dev Deploys and wires the whole ledger (the order docs/contracts.md gives) and signs actions.
abstract contract Base is Test {
    uint64 internal constant T0 = 1_750_000_000;

    address internal admin = makeAddr("admin");
    address internal relayer = makeAddr("relayer");
    address internal verifier = makeAddr("verifier");
    address internal reviewer = makeAddr("reviewer");
    address internal moderator = makeAddr("moderator");
    address internal campaigner = makeAddr("campaigner");
    address internal partnerManager = makeAddr("partnerManager");
    address internal stranger = makeAddr("stranger");

    StaffForwarder internal forwarder;
    ParticipationToken internal token;
    PloggingRegistry internal registry;
    FeedbackBox internal box;
    CommunityRewards internal rewards;
    ActionBatcher internal batcher;

    function setUp() public virtual {
        vm.warp(T0);
        forwarder = new StaffForwarder();
        address fwd = address(forwarder);
        token = new ParticipationToken("Suwon Participation Point", "SPP", admin, fwd);
        registry = new PloggingRegistry(token, admin, defaultBounds(), IPloggingRegistry.PloggingReward(10, 5), fwd);
        box = new FeedbackBox(token, admin, IFeedbackBox.Settings(3, 14 days, 3, 20), 50, fwd);
        rewards = new CommunityRewards(token, registry, box, admin, fwd);
        batcher = new ActionBatcher(registry, box, rewards, admin, fwd);
        vm.startPrank(admin);
        token.grantRole(token.MINTER_ROLE(), address(registry));
        token.grantRole(token.BURNER_ROLE(), address(registry));
        token.grantRole(token.MINTER_ROLE(), address(box));
        token.grantRole(token.MINTER_ROLE(), address(rewards));
        token.grantRole(token.BURNER_ROLE(), address(rewards));
        token.grantRole(token.MOVER_ROLE(), address(rewards));
        registry.grantRole(registry.POLICY_ROLE(), address(rewards));
        box.grantRole(box.POLICY_ROLE(), address(rewards));
        registry.grantRole(registry.RELAYER_ROLE(), address(batcher));
        box.grantRole(box.RELAYER_ROLE(), address(batcher));
        rewards.grantRole(rewards.RELAYER_ROLE(), address(batcher));
        registry.grantRole(registry.RELAYER_ROLE(), relayer);
        box.grantRole(box.RELAYER_ROLE(), relayer);
        rewards.grantRole(rewards.RELAYER_ROLE(), relayer);
        batcher.grantRole(batcher.RELAYER_ROLE(), relayer);
        registry.grantRole(registry.VERIFIER_ROLE(), verifier);
        box.grantRole(box.REVIEWER_ROLE(), reviewer);
        box.grantRole(box.MODERATOR_ROLE(), moderator);
        rewards.grantRole(rewards.CAMPAIGN_ROLE(), campaigner);
        rewards.grantRole(rewards.PARTNER_MANAGER_ROLE(), partnerManager);
        rewards.grantRole(rewards.POLICY_ROLE(), admin);
        box.setCategory(1, true, "Environment");
        vm.stopPrank();
    }

    function defaultBounds() internal pure returns (IPloggingRegistry.PloggingBounds memory) {
        return IPloggingRegistry.PloggingBounds({
            minDurationSeconds: 60,
            maxDurationSeconds: 4 hours,
            maxDistanceMeters: 30_000,
            maxSpeedCmPerSecond: 400,
            maxTrashGrams: 10_000,
            maxAgeSeconds: 7 days,
            maxTrashGramsPerDay: 20_000,
            maxSessionsPerDay: 5
        });
    }

    function residentKey(uint256 i) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode("resident", i))) % (type(uint128).max) + 1;
    }

    function sign(uint256 key, bytes32 d) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, d);
        return abi.encodePacked(r, s, v);
    }

    // ---------------------------------------------------------------- plogging

    /// @dev The default session: 30 minutes, started an hour ago. A resident's sessions must not overlap,
    /// so a second one in the same block needs {sessionAt}.
    function session(address resident, uint64 nonce) internal view returns (IPloggingRegistry.PloggingSession memory) {
        return sessionAt(resident, nonce, uint64(block.timestamp) - 3_600);
    }

    /// @dev The default session (30 minutes), started at `startedAt`.
    function sessionAt(address resident, uint64 nonce, uint64 startedAt)
        internal
        view
        returns (IPloggingRegistry.PloggingSession memory)
    {
        return IPloggingRegistry.PloggingSession({
            resident: resident,
            distanceMeters: 3_200,
            durationSeconds: 1_800,
            trashGrams: 850,
            areaCode: 41_110,
            startedAt: startedAt,
            evidenceHash: keccak256(abi.encode(resident, nonce)),
            nonce: nonce,
            deadline: uint64(block.timestamp) + 1 days
        });
    }

    /// @dev Reward of the default session at the default policy: 3.2 km * 10 + 850 g * 5 / 100.
    function defaultReward() internal pure returns (uint256) {
        return 32 + 42;
    }

    function signed(uint256 key, IPloggingRegistry.PloggingSession memory s)
        internal
        view
        returns (IPloggingRegistry.SignedPloggingSession memory)
    {
        return IPloggingRegistry.SignedPloggingSession(s, sign(key, registry.digest(s)));
    }

    function one(IPloggingRegistry.SignedPloggingSession memory e)
        internal
        pure
        returns (IPloggingRegistry.SignedPloggingSession[] memory b)
    {
        b = new IPloggingRegistry.SignedPloggingSession[](1);
        b[0] = e;
    }

    function record(IPloggingRegistry.SignedPloggingSession[] memory b) internal returns (uint256) {
        vm.prank(relayer);
        return registry.recordBatch(b);
    }

    /// @dev Records one default session for `key` and returns its digest.
    function plog(uint256 key, uint64 nonce) internal returns (bytes32) {
        return plogAt(key, nonce, uint64(block.timestamp) - 3_600);
    }

    /// @dev Records one default session for `key`, started at `startedAt`, and returns its digest.
    function plogAt(uint256 key, uint64 nonce, uint64 startedAt) internal returns (bytes32) {
        IPloggingRegistry.SignedPloggingSession memory e = signed(key, sessionAt(vm.addr(key), nonce, startedAt));
        assertEq(record(one(e)), 0, "plog failed");
        return registry.digest(e.session);
    }

    // ---------------------------------------------------------------- feedback

    function feedback(address resident, uint64 nonce) internal view returns (IFeedbackBox.Feedback memory) {
        return IFeedbackBox.Feedback(resident, 1, 41_110, keccak256(abi.encode("text", resident, nonce)), nonce, uint64(block.timestamp) + 1 days);
    }

    function signedFeedback(uint256 key, IFeedbackBox.Feedback memory f) internal view returns (IFeedbackBox.SignedFeedback[] memory b) {
        b = new IFeedbackBox.SignedFeedback[](1);
        b[0] = IFeedbackBox.SignedFeedback(f, sign(key, box.feedbackDigest(f)));
    }

    function support(address resident, uint64 itemId, uint64 nonce) internal view returns (IFeedbackBox.Support memory) {
        return IFeedbackBox.Support(resident, itemId, nonce, uint64(block.timestamp) + 1 days);
    }

    function signedSupport(uint256 key, IFeedbackBox.Support memory s) internal view returns (IFeedbackBox.SignedSupport[] memory b) {
        b = new IFeedbackBox.SignedSupport[](1);
        b[0] = IFeedbackBox.SignedSupport(s, sign(key, box.supportDigest(s)));
    }

    function submit(uint256 key, uint64 nonce) internal returns (uint64 itemId) {
        IFeedbackBox.SignedFeedback[] memory b = signedFeedback(key, feedback(vm.addr(key), nonce));
        vm.prank(relayer);
        assertEq(box.submitBatch(b), 0, "submit failed");
        return uint64(box.itemCount());
    }

    function supportItem(uint256 key, uint64 itemId, uint64 nonce) internal returns (uint256) {
        IFeedbackBox.SignedSupport[] memory b = signedSupport(key, support(vm.addr(key), itemId, nonce));
        vm.prank(relayer);
        return box.supportBatch(b);
    }

    // ---------------------------------------------------------------- rewards

    function redemption(address resident, address partner_, uint256 amount, uint64 nonce)
        internal
        view
        returns (ICommunityRewards.Redemption memory)
    {
        return ICommunityRewards.Redemption(resident, partner_, amount, keccak256("coffee"), nonce, uint64(block.timestamp) + 1 days);
    }

    function signedRedemption(uint256 key, ICommunityRewards.Redemption memory r)
        internal
        view
        returns (ICommunityRewards.SignedRedemption memory)
    {
        return ICommunityRewards.SignedRedemption(r, sign(key, rewards.redemptionDigest(r)));
    }

    function donation(address resident, uint32 causeId, uint256 amount, uint64 nonce)
        internal
        view
        returns (ICommunityRewards.Donation memory)
    {
        return ICommunityRewards.Donation(resident, causeId, amount, nonce, uint64(block.timestamp) + 1 days);
    }

    function signedDonation(uint256 key, ICommunityRewards.Donation memory d)
        internal
        view
        returns (ICommunityRewards.SignedDonation memory)
    {
        return ICommunityRewards.SignedDonation(d, sign(key, rewards.donationDigest(d)));
    }

    function claim(address resident, uint64 campaignId, uint256 amount, uint64 nonce)
        internal
        view
        returns (ICommunityRewards.Claim memory)
    {
        return ICommunityRewards.Claim(resident, campaignId, amount, nonce, uint64(block.timestamp) + 1 days);
    }

    function signedClaim(uint256 key, ICommunityRewards.Claim memory c, bytes32[] memory proof)
        internal
        view
        returns (ICommunityRewards.SignedClaim memory)
    {
        return ICommunityRewards.SignedClaim(c, proof, sign(key, rewards.claimDigest(c)));
    }

    /// @dev Gives `resident` points the way the ledger does: as the registry, through mintBatch.
    function fund(address resident, uint256 amount) internal {
        address[] memory r = new address[](1);
        uint256[] memory a = new uint256[](1);
        (r[0], a[0]) = (resident, amount);
        vm.prank(address(registry));
        token.mintBatch(r, a);
    }

    // ---------------------------------------------------------------- staff (ERC-2771)

    /// @dev A request from vm.addr(key) to call `to` with `data`, signed with the signer's next nonce.
    function staffRequest(uint256 key, address to, bytes memory data)
        internal
        view
        returns (ERC2771Forwarder.ForwardRequestData memory r)
    {
        r = ERC2771Forwarder.ForwardRequestData({
            from: vm.addr(key),
            to: to,
            value: 0,
            gas: 500_000,
            deadline: uint48(block.timestamp + 1 hours),
            data: data,
            signature: ""
        });
        r.signature = signRequest(key, r, forwarder.nonces(r.from));
    }

    /// @dev Signs `r` (its signature field aside) as the request with `nonce`, for the test's forwarder.
    function signRequest(uint256 key, ERC2771Forwarder.ForwardRequestData memory r, uint256 nonce)
        internal
        view
        returns (bytes memory)
    {
        return sign(key, requestDigest(forwarder, r, nonce));
    }

    /// @dev The EIP-712 digest of `r` with `nonce` under forwarder `f`'s domain, computed here (not by `f`).
    function requestDigest(StaffForwarder f, ERC2771Forwarder.ForwardRequestData memory r, uint256 nonce)
        internal
        view
        returns (bytes32)
    {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("ESGStaffForwarder"),
                keccak256("1"),
                block.chainid,
                address(f)
            )
        );
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256(
                    "ForwardRequest(address from,address to,uint256 value,uint256 gas,uint256 nonce,uint48 deadline,bytes data)"
                ),
                r.from,
                r.to,
                r.value,
                r.gas,
                nonce,
                r.deadline,
                keccak256(r.data)
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    /// @dev `r` as the forwarder's signed struct, for {StaffForwarder.forwardRequestDigest}.
    function asSigned(ERC2771Forwarder.ForwardRequestData memory r, uint256 nonce)
        internal
        pure
        returns (IStaffForwarder.ForwardRequest memory)
    {
        return IStaffForwarder.ForwardRequest(r.from, r.to, r.value, r.gas, nonce, r.deadline, r.data);
    }

    /// @dev Relays `data` to `to` as vm.addr(key): the relayer submits, the request must succeed.
    function relayAs(uint256 key, address to, bytes memory data) internal {
        ERC2771Forwarder.ForwardRequestData memory r = staffRequest(key, to, data);
        vm.prank(relayer);
        forwarder.execute(r);
    }

    /// @dev Submits `requests` in one {ERC2771Forwarder.executeBatch} with the relayer as refund receiver.
    function relayBatch(ERC2771Forwarder.ForwardRequestData[] memory requests) internal {
        vm.prank(relayer);
        forwarder.executeBatch(requests, payable(relayer));
    }

    // ---------------------------------------------------------------- merkle

    /// @dev The tree BatchMerkle builds (sorted pairs, odd node carried up), and a proof for leaf `index`.
    function merkle(bytes32[] memory leaves, uint256 index) internal pure returns (bytes32 root, bytes32[] memory proof) {
        bytes32[] memory level = leaves;
        bytes32[] memory tmp = new bytes32[](64);
        uint256 depth;
        uint256 pos = index;
        while (level.length > 1) {
            uint256 n = level.length;
            if (pos ^ 1 < n) tmp[depth++] = level[pos ^ 1];
            bytes32[] memory next = new bytes32[]((n + 1) / 2);
            for (uint256 i; i < n / 2; ++i) {
                (bytes32 a, bytes32 b) = (level[2 * i], level[2 * i + 1]);
                next[i] = a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
            }
            if (n % 2 == 1) next[n / 2] = level[n - 1];
            level = next;
            pos /= 2;
        }
        root = level[0];
        proof = new bytes32[](depth);
        for (uint256 i; i < depth; ++i) {
            proof[i] = tmp[i];
        }
    }

    /// @dev Intrinsic calldata gas of `data` (EIP-2028: 4 per zero byte, 16 per other byte).
    function calldataGas(bytes memory data) internal pure returns (uint256 g) {
        for (uint256 i; i < data.length; ++i) {
            g += data[i] == 0 ? 4 : 16;
        }
    }
}
