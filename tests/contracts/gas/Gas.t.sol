// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {console} from "forge-std/console.sol";
import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";
import {Base} from "../Base.t.sol";
import {IPloggingRegistry} from "../../../contracts/IPloggingRegistry.sol";
import {IFeedbackBox} from "../../../contracts/IFeedbackBox.sol";
import {ICommunityRewards} from "../../../contracts/ICommunityRewards.sol";
import {ERC1271WalletMock} from "../mocks/ERC1271WalletMock.sol";

/// @dev Gas per action. Run `forge test --match-contract GasTest -vv` for the table in docs/contracts.md.
/// Each batch is ABI-encoded before measuring and sent as a plain call after cooling every account and
/// slot (`vm.cool`), so the numbers are what a transaction pays: execution, plus 16/4 gas per calldata
/// byte and 21,000 per transaction, which the log adds.
contract GasTest is Base {
    uint256 internal constant N = 100;

    function _send(address target, bytes memory data, uint256 n, string memory label) internal returns (uint256 perAction) {
        vm.cool(address(token));
        vm.cool(address(registry));
        vm.cool(address(box));
        vm.cool(address(rewards));
        vm.prank(relayer);
        (bool ok, bytes memory ret) = target.call(data);
        uint256 used = vm.lastCallGas().gasTotalUsed;
        assertTrue(ok);
        assertEq(abi.decode(ret, (uint256)), 0);
        uint256 cd = calldataGas(data);
        perAction = (21_000 + cd + used) / n;
        console.log(label);
        console.log("  execution per action ", used / n);
        console.log("  calldata per action  ", cd / n);
        console.log("  tx total per action  ", perAction);
        console.log("  tx total             ", 21_000 + cd + used);
    }

    function _ploggingBatch(uint64 nonce) internal view returns (IPloggingRegistry.SignedPloggingSession[] memory b) {
        return _ploggingBatchAt(nonce, uint64(block.timestamp) - 3_600);
    }

    function _ploggingBatchAt(uint64 nonce, uint64 startedAt)
        internal
        view
        returns (IPloggingRegistry.SignedPloggingSession[] memory b)
    {
        b = new IPloggingRegistry.SignedPloggingSession[](N);
        for (uint256 i; i < N; ++i) {
            uint256 key = residentKey(i);
            b[i] = signed(key, sessionAt(vm.addr(key), nonce, startedAt));
        }
    }

    function test_gas_plogging_firstTime() public {
        _send(address(registry), abi.encodeCall(registry.recordBatch, (_ploggingBatch(0))), N, "plogging x100, first-time residents");
    }

    function test_gas_plogging_holders() public {
        record(_ploggingBatch(0));
        vm.warp(block.timestamp + 1 days);
        uint256 perAction =
            _send(address(registry), abi.encodeCall(registry.recordBatch, (_ploggingBatch(1))), N, "plogging x100, residents holding points");
        assertLe(perAction, 30_000, "target: <= 30,000 gas per plogging action for existing holders");
    }

    function test_gas_plogging_holders_sameDay() public {
        // The first sessions ended before the second ones start (a resident's sessions never overlap).
        record(_ploggingBatchAt(0, uint64(block.timestamp) - 2 hours));
        _send(address(registry), abi.encodeCall(registry.recordBatch, (_ploggingBatch(1))), N, "plogging x100, holders, 2nd session same day");
    }

    /// @dev The worst case the batch cap allows: first-time residents whose ERC-1271 wallets spend their
    /// whole gas allowance. It must still fit one transaction under the EIP-7825 cap of 2**24 gas.
    function test_gas_plogging_worstCaseFitsTxCap() public {
        IPloggingRegistry.SignedPloggingSession[] memory b = new IPloggingRegistry.SignedPloggingSession[](N);
        for (uint256 i; i < N; ++i) {
            uint256 key = residentKey(i);
            ERC1271WalletMock wallet = new ERC1271WalletMock(vm.addr(key));
            wallet.setBurnGas(registry.ERC1271_GAS_LIMIT() - 15_000);
            IPloggingRegistry.PloggingSession memory s = session(address(wallet), 0);
            s.evidenceHash = bytes32(type(uint256).max);
            b[i] = signed(key, s);
        }
        uint256 perAction = _send(address(registry), abi.encodeCall(registry.recordBatch, (b)), N, "plogging x100 worst case (new residents, ERC-1271)");
        assertLt(perAction * N, 16_777_216);
    }

    function test_gas_feedback() public {
        uint256 n = 64;
        IFeedbackBox.SignedFeedback[] memory b = new IFeedbackBox.SignedFeedback[](n);
        for (uint256 i; i < n; ++i) {
            uint256 key = residentKey(i);
            b[i] = signedFeedback(key, feedback(vm.addr(key), 0))[0];
        }
        _send(address(box), abi.encodeCall(box.submitBatch, (b)), n, "feedback x64 (new items)");
    }

    function test_gas_support() public {
        uint64 id = submit(residentKey(1_000), 0);
        vm.prank(admin);
        box.setSettings(IFeedbackBox.Settings(0, 0, 3, 20));
        uint256 n = 64;
        IFeedbackBox.SignedSupport[] memory b = new IFeedbackBox.SignedSupport[](n);
        for (uint256 i; i < n; ++i) {
            uint256 key = residentKey(i);
            b[i] = signedSupport(key, support(vm.addr(key), id, 0))[0];
        }
        // Residents who already used the box (their nonce slot exists).
        IFeedbackBox.SignedFeedback[] memory f = new IFeedbackBox.SignedFeedback[](n);
        for (uint256 i; i < n; ++i) {
            uint256 key = residentKey(i);
            f[i] = signedFeedback(key, feedback(vm.addr(key), 1))[0];
        }
        vm.prank(relayer);
        box.submitBatch(f);
        vm.warp(block.timestamp + 1 days);
        _send(address(box), abi.encodeCall(box.supportBatch, (b)), n, "support x64 (one item, residents known to the box)");
    }

    function test_gas_redemption() public {
        address cafe = makeAddr("cafe");
        vm.prank(partnerManager);
        rewards.setPartner(cafe, false, uint64(block.timestamp) + 30 days, 0);
        record(_ploggingBatch(0));
        uint256 n = 64;
        ICommunityRewards.SignedRedemption[] memory b = new ICommunityRewards.SignedRedemption[](n);
        for (uint256 i; i < n; ++i) {
            uint256 key = residentKey(i);
            b[i] = signedRedemption(key, redemption(vm.addr(key), cafe, 10, 0));
        }
        _send(address(rewards), abi.encodeCall(rewards.redeemBatch, (b)), n, "redemption x64 (transfer to partner)");
    }

    /// @dev What relaying costs a staff action: the same `moderate` sent by the moderator (who would
    /// need gas) and through the forwarder by the relayer, alone and eight in one executeBatch.
    function test_gas_staffRelay() public {
        uint256 n = 9;
        for (uint256 i; i < n; ++i) {
            submit(residentKey(i), 0);
        }
        bytes32 role = box.MODERATOR_ROLE();
        ERC2771Forwarder.ForwardRequestData[] memory b = new ERC2771Forwarder.ForwardRequestData[](n - 1);
        for (uint256 i; i < n; ++i) {
            uint256 key = uint256(keccak256(abi.encode("moderator", i)));
            vm.prank(admin);
            box.grantRole(role, vm.addr(key));
            bytes memory call_ = abi.encodeCall(box.moderate, (i + 1, true, 1));
            if (i == 0) {
                vm.cool(address(box));
                vm.prank(vm.addr(key));
                (bool ok,) = address(box).call(call_);
                assertTrue(ok);
                uint256 direct = 21_000 + calldataGas(call_) + vm.lastCallGas().gasTotalUsed;
                console.log("staff moderate, sent by the moderator: tx total", direct);
            } else {
                b[i - 1] = staffRequest(key, address(box), call_);
            }
        }
        bytes memory one = abi.encodeCall(forwarder.execute, (b[0]));
        uint256 snap = vm.snapshotState();
        vm.cool(address(box));
        vm.cool(address(forwarder));
        vm.prank(relayer);
        (bool sent,) = address(forwarder).call(one);
        assertTrue(sent);
        console.log("staff moderate, relayed alone (execute): tx total", 21_000 + calldataGas(one) + vm.lastCallGas().gasTotalUsed);
        vm.revertToState(snap);
        bytes memory batch = abi.encodeCall(forwarder.executeBatch, (b, payable(relayer)));
        vm.cool(address(box));
        vm.cool(address(forwarder));
        vm.prank(relayer);
        (sent,) = address(forwarder).call(batch);
        assertTrue(sent);
        console.log("staff moderate x8, relayed in one executeBatch: tx total per request",
            (21_000 + calldataGas(batch) + vm.lastCallGas().gasTotalUsed) / (n - 1));
        assertTrue(box.item(n).hidden);
    }
}
