// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {ParticipationToken} from "../../contracts/ParticipationToken.sol";
import {PloggingRegistry} from "../../contracts/PloggingRegistry.sol";
import {IPloggingRegistry} from "../../contracts/IPloggingRegistry.sol";

/// @dev Deploys the ledger and signs actions for tests.
abstract contract Base is Test {
    uint64 internal constant T0 = 1_750_000_000;

    address internal admin = makeAddr("admin");
    address internal relayer = makeAddr("relayer");
    address internal verifier = makeAddr("verifier");
    address internal stranger = makeAddr("stranger");

    ParticipationToken internal token;
    PloggingRegistry internal registry;

    function setUp() public virtual {
        vm.warp(T0);
        token = new ParticipationToken("Suwon Participation Point", "SPP", admin);
        registry = new PloggingRegistry(token, admin, defaultBounds(), IPloggingRegistry.PloggingReward(10, 5));
        vm.startPrank(admin);
        token.grantRole(token.MINTER_ROLE(), address(registry));
        token.grantRole(token.BURNER_ROLE(), address(registry));
        registry.grantRole(registry.RELAYER_ROLE(), relayer);
        registry.grantRole(registry.VERIFIER_ROLE(), verifier);
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

    function session(address resident, uint64 nonce) internal view returns (IPloggingRegistry.PloggingSession memory) {
        return IPloggingRegistry.PloggingSession({
            resident: resident,
            distanceMeters: 3_200,
            durationSeconds: 1_800,
            trashGrams: 850,
            areaCode: 41_110,
            startedAt: uint64(block.timestamp) - 3_600,
            evidenceHash: keccak256(abi.encode(resident, nonce)),
            nonce: nonce,
            deadline: uint64(block.timestamp) + 1 days
        });
    }

    function sign(uint256 key, bytes32 d) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, d);
        return abi.encodePacked(r, s, v);
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

    /// @dev Intrinsic calldata gas of `data` (EIP-2028: 4 per zero byte, 16 per other byte).
    function calldataGas(bytes memory data) internal pure returns (uint256 g) {
        for (uint256 i; i < data.length; ++i) {
            g += data[i] == 0 ? 4 : 16;
        }
    }
}
