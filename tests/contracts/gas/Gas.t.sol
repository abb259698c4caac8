// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {console} from "forge-std/console.sol";
import {Base} from "../Base.t.sol";
import {IPloggingRegistry} from "../../../contracts/IPloggingRegistry.sol";

/// @dev Gas per action in batches of 100. Run with `forge test --match-contract GasTest -vv`.
contract GasTest is Base {
    uint256 internal constant N = 100;

    function _ploggingBatch(uint64 nonce) internal view returns (IPloggingRegistry.SignedPloggingSession[] memory b) {
        b = new IPloggingRegistry.SignedPloggingSession[](N);
        for (uint256 i; i < N; ++i) {
            uint256 key = residentKey(i);
            b[i] = signed(key, session(vm.addr(key), nonce));
        }
    }

    function _measurePlogging(IPloggingRegistry.SignedPloggingSession[] memory b, string memory label) internal {
        bytes memory data = abi.encodeCall(registry.recordBatch, (b));
        // A real transaction starts with every account and slot cold (but its `to`, which is warm).
        vm.cool(address(token));
        vm.cool(address(registry));
        // Encoded before measuring: the test contract's own ABI encoding is not the transaction's gas.
        vm.prank(relayer);
        (bool ok, bytes memory ret) = address(registry).call(data);
        uint256 used = vm.lastCallGas().gasTotalUsed;
        assertTrue(ok);
        assertEq(abi.decode(ret, (uint256)), 0);
        uint256 cd = calldataGas(data);
        console.log(label);
        console.log("  execution per action", used / N);
        console.log("  calldata per action ", cd / N);
        console.log("  tx total per action (21000 + calldata + execution) / N", (21_000 + cd + used) / N);
    }

    function test_gas_plogging_firstTime() public {
        _measurePlogging(_ploggingBatch(0), "plogging, 100 first-time residents");
    }

    function test_gas_plogging_holders() public {
        record(_ploggingBatch(0));
        vm.warp(block.timestamp + 1 days);
        _measurePlogging(_ploggingBatch(1), "plogging, 100 residents already holding points");
    }
}
