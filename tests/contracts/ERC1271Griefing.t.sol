// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {Base} from "./Base.t.sol";
import {IPloggingRegistry} from "../../contracts/IPloggingRegistry.sol";
import {ISignedActions} from "../../contracts/ISignedActions.sol";
import {FlagGriefingWallet} from "./mocks/FlagGriefingWallet.sol";
import {GasPriceGriefingWallet} from "./mocks/GasPriceGriefingWallet.sol";

/// @dev Smart-account residents whose ERC-1271 answer changes between the relayer's simulation and the
/// real transaction. Their own entry fails; the question is whether the rest of the batch survives.
/// The relayer sends a batch with gas limit = simulated gas + simulated gas / 32 + 30,000, where the
/// simulated gas is what the whole transaction used (21,000 and calldata included).
/// Findings: the wallet's call is capped at ERC1271_GAS_LIMIT, so a griefer can add at most that much
/// gas per entry, but that is more than the margin of a small batch, or of a full batch with three
/// griefers: the outer call then runs out of gas and the whole batch reverts. A margin of
/// ERC1271_GAS_LIMIT per smart-account entry (on top of the formula) always suffices.
contract ERC1271GriefingTest is Base {
    uint256 internal constant CHEAP = 1 gwei;
    uint256 internal constant DEAR = 50 gwei;
    uint256 internal ownerKey = residentKey(900);
    address internal owner = vm.addr(ownerKey);

    address[] internal wallets;

    // ------------------------------------------------------------- the mocks themselves

    function test_gasPriceWallet_answersByGasPrice() public {
        GasPriceGriefingWallet burning = new GasPriceGriefingWallet(owner, 10 gwei, true);
        GasPriceGriefingWallet refusing = new GasPriceGriefingWallet(owner, 10 gwei, false);
        bytes32 h = keccak256("digest");
        bytes memory sig = sign(ownerKey, h);
        vm.txGasPrice(10 gwei);
        assertEq(burning.isValidSignature(h, sig), IERC1271.isValidSignature.selector);
        assertEq(refusing.isValidSignature(h, sig), IERC1271.isValidSignature.selector);
        assertEq(refusing.isValidSignature(h, sign(residentKey(901), h)), bytes4(0xffffffff));
        vm.txGasPrice(10 gwei + 1);
        assertEq(refusing.isValidSignature(h, sig), bytes4(0xffffffff));
        (bool ok,) = address(burning).staticcall{gas: 50_000}(abi.encodeCall(IERC1271.isValidSignature, (h, sig)));
        assertFalse(ok);
    }

    function test_flagWallet_flipsAndOnlyOwner() public {
        FlagGriefingWallet w = new FlagGriefingWallet(owner, false);
        bytes32 h = keccak256("digest");
        bytes memory sig = sign(ownerKey, h);
        assertEq(w.isValidSignature(h, sig), IERC1271.isValidSignature.selector);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(FlagGriefingWallet.FlagGriefingWalletNotOwner.selector, stranger, owner));
        w.flip();
        vm.prank(owner);
        w.flip();
        assertTrue(w.flipped());
        assertEq(w.isValidSignature(h, sig), bytes4(0xffffffff));
        vm.prank(owner);
        w.flip();
        assertEq(w.isValidSignature(h, sig), IERC1271.isValidSignature.selector);
    }

    // ------------------------------------------------------------- one griefer's entry fails alone

    function test_gasPriceGriefer_burning_failsAlone() public {
        _gasPriceGriefer_failsAlone(true);
    }

    function test_gasPriceGriefer_refusing_failsAlone() public {
        _gasPriceGriefer_failsAlone(false);
    }

    function _gasPriceGriefer_failsAlone(bool burn) internal {
        address w = address(new GasPriceGriefingWallet(owner, 10 gwei, burn));
        IPloggingRegistry.SignedPloggingSession[] memory b = _batch(10, _one(w));
        vm.txGasPrice(CHEAP);
        assertEq(registry.check(b[5]), ""); // what the relayer's simulation sees
        vm.txGasPrice(DEAR);
        bytes32 d = registry.digest(b[5].session);
        vm.expectEmit(address(registry));
        emit ISignedActions.ActionFailed(d, w, 0, abi.encodeWithSelector(ISignedActions.SignedActionsInvalidSignature.selector, w, d));
        assertEq(record(b), 1 << 5);
        _assertOthersRewarded(b, 5);
        assertTrue(registry.isNonceUsable(w, 0));
    }

    function test_flagGriefer_failsAlone() public {
        address w = address(new FlagGriefingWallet(owner, true));
        IPloggingRegistry.SignedPloggingSession[] memory b = _batch(10, _one(w));
        assertEq(registry.check(b[5]), ""); // what the relayer's simulation sees
        vm.prank(owner);
        FlagGriefingWallet(w).flip();
        assertEq(record(b), 1 << 5);
        _assertOthersRewarded(b, 5);
        assertTrue(registry.isNonceUsable(w, 0));
    }

    // ------------------------------------------------------------- the relayer's gas margin

    /// @dev A full batch of residents holding points absorbs one griefer (~60k extra gas < ~120k margin).
    function test_relayerMargin_fullBatchAbsorbsOneGriefer() public {
        address w = address(new GasPriceGriefingWallet(owner, 10 gwei, true));
        IPloggingRegistry.SignedPloggingSession[] memory b = _holderBatch(100, _one(w));
        (bool ok, uint256 mask) = _simulateCheapSendDear(b, 0);
        assertTrue(ok);
        assertEq(mask, 1 << 50);
    }

    /// @dev A small batch does not: the griefer's burn exceeds the margin and the whole batch reverts
    /// (out of gas), taking the honest resident's entry with it. ERC1271_GAS_LIMIT more per
    /// smart-account entry saves it.
    function test_relayerMargin_smallBatchRevertsWithoutWalletAllowance() public {
        address w = address(new GasPriceGriefingWallet(owner, 10 gwei, true));
        IPloggingRegistry.SignedPloggingSession[] memory b = _holderBatch(2, _one(w));
        (bool ok,) = _simulateCheapSendDear(b, 0);
        assertFalse(ok, "the formula's margin absorbed a griefer in a two-entry batch");
        uint256 mask;
        (ok, mask) = _simulateCheapSendDear(b, registry.ERC1271_GAS_LIMIT());
        assertTrue(ok);
        assertEq(mask, 1 << 1);
    }

    /// @dev Three griefers that flip between simulation and inclusion sink even a full batch.
    function test_relayerMargin_threeFlippersSinkAFullBatch() public {
        address[] memory ws = new address[](3);
        for (uint256 i; i < 3; ++i) ws[i] = address(new FlagGriefingWallet(owner, true));
        IPloggingRegistry.SignedPloggingSession[] memory b = _holderBatch(100, ws);
        bytes memory data = abi.encodeCall(registry.recordBatch, (b));
        uint256 simulated = _simulate(data);
        vm.startPrank(owner);
        for (uint256 i; i < 3; ++i) FlagGriefingWallet(ws[i]).flip();
        vm.stopPrank();
        uint256 snap = vm.snapshotState();
        (bool ok,) = _send(data, simulated, 0);
        assertFalse(ok, "the formula's margin absorbed three griefers");
        vm.revertToState(snap);
        uint256 mask;
        (ok, mask) = _send(data, simulated, 3 * registry.ERC1271_GAS_LIMIT());
        assertTrue(ok);
        assertEq(mask, (1 << 25) | (1 << 50) | (1 << 75));
    }

    // ------------------------------------------------------------- helpers

    function _one(address w) internal pure returns (address[] memory ws) {
        ws = new address[](1);
        ws[0] = w;
    }

    /// @dev `n` sessions (nonce 0) of distinct residents; the k wallets' entries sit at n * (j + 1) / (k + 1).
    function _batch(uint256 n, address[] memory ws) internal view returns (IPloggingRegistry.SignedPloggingSession[] memory b) {
        return _batchAt(n, ws, uint64(block.timestamp) - 1 hours, 0);
    }

    function _batchAt(uint256 n, address[] memory ws, uint64 startedAt, uint64 nonce)
        internal
        view
        returns (IPloggingRegistry.SignedPloggingSession[] memory b)
    {
        b = new IPloggingRegistry.SignedPloggingSession[](n);
        uint256 j;
        for (uint256 i; i < n; ++i) {
            if (j < ws.length && i == n * (j + 1) / (ws.length + 1)) {
                b[i] = signed(ownerKey, sessionAt(ws[j++], nonce, startedAt));
            } else {
                uint256 key = residentKey(1_000 + i);
                b[i] = signed(key, sessionAt(vm.addr(key), nonce, startedAt));
            }
        }
    }

    /// @dev Like {_batch} (nonce 1), after a first session for everyone (cheap gas: the wallets were still
    /// valid), so every resident, wallets included, already has its slot and points: the costliest griefing.
    function _holderBatch(uint256 n, address[] memory ws) internal returns (IPloggingRegistry.SignedPloggingSession[] memory b) {
        vm.txGasPrice(CHEAP);
        assertEq(record(_batchAt(n, ws, uint64(block.timestamp) - 3 hours, 0)), 0);
        b = _batchAt(n, ws, uint64(block.timestamp) - 1 hours, 1);
        wallets = ws;
    }

    function _assertOthersRewarded(IPloggingRegistry.SignedPloggingSession[] memory b, uint256 skip) internal view {
        for (uint256 i; i < b.length; ++i) {
            assertEq(token.balanceOf(b[i].session.resident), i == skip ? 0 : defaultReward());
        }
    }

    function _coolAll() internal {
        vm.cool(address(token));
        vm.cool(address(registry));
        for (uint256 i; i < wallets.length; ++i) vm.cool(wallets[i]);
    }

    /// @dev The relayer's simulation: the whole transaction's gas (21,000, calldata, execution), at CHEAP.
    function _simulate(bytes memory data) internal returns (uint256 simulated) {
        uint256 snap = vm.snapshotState();
        vm.txGasPrice(CHEAP);
        _coolAll();
        vm.prank(relayer);
        (bool ok, bytes memory ret) = address(registry).call(data);
        simulated = 21_000 + calldataGas(data) + vm.lastCallGas().gasTotalUsed;
        assertTrue(ok);
        assertEq(abi.decode(ret, (uint256)), 0, "the simulation sees every entry valid");
        vm.revertToState(snap);
    }

    /// @dev The real transaction at DEAR, with gas limit = simulated + simulated / 32 + 30,000 + `extra`;
    /// its execution gets that limit less the intrinsic gas.
    function _send(bytes memory data, uint256 simulated, uint256 extra) internal returns (bool ok, uint256 mask) {
        uint256 limit = simulated + simulated / 32 + 30_000 + extra;
        vm.txGasPrice(DEAR);
        _coolAll();
        vm.prank(relayer);
        bytes memory ret;
        (ok, ret) = address(registry).call{gas: limit - 21_000 - calldataGas(data)}(data);
        if (ok) mask = abi.decode(ret, (uint256));
    }

    function _simulateCheapSendDear(IPloggingRegistry.SignedPloggingSession[] memory b, uint256 extraPerWallet)
        internal
        returns (bool ok, uint256 mask)
    {
        bytes memory data = abi.encodeCall(registry.recordBatch, (b));
        uint256 simulated = _simulate(data);
        uint256 snap = vm.snapshotState();
        (ok, mask) = _send(data, simulated, extraPerWallet * wallets.length);
        if (!ok) vm.revertToState(snap);
    }
}
