// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";
import {console} from "forge-std/console.sol";
import {Base} from "./Base.t.sol";
import {EnrolmentRegistry} from "../../contracts/EnrolmentRegistry.sol";
import {IEnrolmentRegistry} from "../../contracts/IEnrolmentRegistry.sol";

/// @dev What a reward contract would do per resident if it enforced enrolment itself: one external call.
contract EnrolmentProbe {
    EnrolmentRegistry private immutable _registry;

    constructor(EnrolmentRegistry registry_) {
        _registry = registry_;
    }

    function check(address resident) external view returns (bool) {
        return _registry.isEnrolled(resident);
    }

    function checkAll(address[] calldata residents) external view returns (uint256 enrolled) {
        for (uint256 i; i < residents.length; ++i) {
            if (_registry.isEnrolled(residents[i])) ++enrolled;
        }
    }
}

/// @dev Enrolment through the forwarder names the enroller; refusals; idempotence; withdrawal; gas.
contract EnrolmentRegistryTest is Base {
    EnrolmentRegistry internal enrolments;
    uint256 internal deskKey = uint256(keccak256("service desk staff"));
    address internal desk = vm.addr(deskKey);
    uint256 internal platformKey = uint256(keccak256("platform enroller"));
    address internal platform = vm.addr(platformKey);
    uint256 internal strangerKey = uint256(keccak256("no roles"));
    uint256 internal adminKey = uint256(keccak256(abi.encodePacked("admin")));
    bytes32 internal constant DESK = "desk:suwon-city-hall";
    bytes32 internal constant PLATFORM = "platform:metaverse";

    function setUp() public override {
        super.setUp();
        enrolments = new EnrolmentRegistry(admin, address(forwarder));
        vm.startPrank(admin);
        enrolments.grantRole(enrolments.ENROLLER_ROLE(), admin); // as ledger/deploy.py does
        enrolments.grantRole(enrolments.ENROLLER_ROLE(), desk);
        enrolments.grantRole(enrolments.ENROLLER_ROLE(), platform);
        vm.stopPrank();
    }

    function _enrolAs(uint256 key, address resident, bytes32 party) internal {
        relayAs(key, address(enrolments), abi.encodeCall(enrolments.enrol, (resident, party, keccak256("consent"))));
    }

    function test_enrol_throughTheForwarder_namesTheEnroller() public {
        address r = vm.addr(residentKey(1));
        assertFalse(enrolments.isEnrolled(r));
        vm.expectEmit(address(enrolments));
        emit IEnrolmentRegistry.ResidentEnrolled(r, desk, DESK, keccak256("consent"));
        _enrolAs(deskKey, r, DESK);
        assertTrue(enrolments.isEnrolled(r));
        (bytes32 party, address enroller, uint64 enrolledAt) = enrolments.enrolmentOf(r);
        assertEq(party, DESK);
        assertEq(enroller, desk);
        assertEq(enrolledAt, block.timestamp);
        assertEq(desk.balance, 0);
    }

    function test_enrol_twice_revertsNamingTheFirstParty() public {
        address r = vm.addr(residentKey(1));
        _enrolAs(deskKey, r, DESK);
        vm.prank(platform);
        vm.expectRevert(abi.encodeWithSelector(IEnrolmentRegistry.EnrolmentRegistryAlreadyEnrolled.selector, r, DESK));
        enrolments.enrol(r, PLATFORM, 0);
        (, address enroller,) = enrolments.enrolmentOf(r);
        assertEq(enroller, desk);
    }

    function test_enrol_refusals() public {
        bytes32 role = enrolments.ENROLLER_ROLE();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role));
        enrolments.enrol(address(1), DESK, 0);
        vm.startPrank(desk);
        vm.expectRevert(IEnrolmentRegistry.EnrolmentRegistryZeroResident.selector);
        enrolments.enrol(address(0), DESK, 0);
        vm.expectRevert(IEnrolmentRegistry.EnrolmentRegistryZeroParty.selector);
        enrolments.enrol(address(1), 0, 0);
        vm.expectRevert(abi.encodeWithSelector(IEnrolmentRegistry.EnrolmentRegistryBatchSize.selector, 0, 256));
        enrolments.enrolBatch(new IEnrolmentRegistry.Enrolment[](0));
        vm.expectRevert(abi.encodeWithSelector(IEnrolmentRegistry.EnrolmentRegistryBatchSize.selector, 257, 256));
        enrolments.enrolBatch(new IEnrolmentRegistry.Enrolment[](257));
        vm.stopPrank();
    }

    function test_enrolBatch_skipsTheEnrolledAndCountsTheRest() public {
        IEnrolmentRegistry.Enrolment[] memory b = _batch(3);
        _enrolAs(deskKey, b[1].resident, DESK);
        vm.expectEmit(address(enrolments));
        emit IEnrolmentRegistry.ResidentEnrolled(b[0].resident, platform, PLATFORM, b[0].evidenceHash);
        vm.expectEmit(address(enrolments));
        emit IEnrolmentRegistry.ResidentEnrolled(b[2].resident, platform, PLATFORM, b[2].evidenceHash);
        vm.recordLogs();
        vm.prank(platform);
        assertEq(enrolments.enrolBatch(b), 2);
        assertEq(vm.getRecordedLogs().length, 2);
        (bytes32 party,,) = enrolments.enrolmentOf(b[1].resident);
        assertEq(party, DESK);
        vm.prank(platform);
        assertEq(enrolments.enrolBatch(b), 0); // a retried bulk: nothing new, nothing reverts
    }

    function test_withdraw_byEnrollerOrAdmin_namesWhoAndTheParty() public {
        address r = vm.addr(residentKey(1));
        _enrolAs(deskKey, r, DESK);
        vm.expectEmit(address(enrolments));
        emit IEnrolmentRegistry.ResidentWithdrawn(r, platform, DESK, 2);
        relayAs(platformKey, address(enrolments), abi.encodeCall(enrolments.withdraw, (r, 2)));
        assertFalse(enrolments.isEnrolled(r));
        (bytes32 party, address enroller, uint64 enrolledAt) = enrolments.enrolmentOf(r);
        assertEq(party, 0);
        assertEq(enroller, address(0));
        assertEq(enrolledAt, 0);

        _enrolAs(platformKey, r, PLATFORM); // enrolled again, by another party
        vm.expectEmit(address(enrolments));
        emit IEnrolmentRegistry.ResidentWithdrawn(r, admin, PLATFORM, 7);
        relayAs(adminKey, address(enrolments), abi.encodeCall(enrolments.withdraw, (r, 7)));
        vm.prank(desk);
        vm.expectRevert(abi.encodeWithSelector(IEnrolmentRegistry.EnrolmentRegistryNotEnrolled.selector, r));
        enrolments.withdraw(r, 1);
    }

    function test_withdraw_withoutTheRole_isRefused() public {
        address r = vm.addr(residentKey(1));
        _enrolAs(deskKey, r, DESK);
        address s = vm.addr(strangerKey);
        bytes32 role = enrolments.ENROLLER_ROLE();
        vm.prank(address(forwarder));
        (bool ok, bytes memory ret) =
            address(enrolments).call(abi.encodePacked(abi.encodeCall(enrolments.withdraw, (r, 1)), s));
        assertFalse(ok);
        assertEq(ret, abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, s, role));
        assertTrue(enrolments.isEnrolled(r));
    }

    function testFuzz_isEnrolled_followsEnrolAndWithdraw(address r, bytes32 party, bool withdrawn) public {
        vm.assume(r != address(0) && party != 0);
        vm.startPrank(desk);
        enrolments.enrol(r, party, 0);
        if (withdrawn) enrolments.withdraw(r, 0);
        vm.stopPrank();
        assertEq(enrolments.isEnrolled(r), !withdrawn);
    }

    // ------------------------------------------------------------- gas (docs/contracts.md, "Enrolment")

    function _batch(uint256 n) internal pure returns (IEnrolmentRegistry.Enrolment[] memory b) {
        b = new IEnrolmentRegistry.Enrolment[](n);
        for (uint256 i; i < n; ++i) {
            b[i] = IEnrolmentRegistry.Enrolment(vm.addr(residentKey(100 + i)), PLATFORM, keccak256(abi.encode(i)));
        }
    }

    function _measure(bytes memory data, string memory label) internal returns (uint256 total) {
        vm.cool(address(enrolments));
        vm.prank(desk);
        (bool ok,) = address(enrolments).call(data);
        assertTrue(ok);
        total = 21_000 + calldataGas(data) + vm.lastCallGas().gasTotalUsed;
        console.log(label, total);
    }

    function test_gas_enrolOne() public {
        uint256 total = _measure(abi.encodeCall(enrolments.enrol, (vm.addr(residentKey(1)), DESK, keccak256("c"))), "enrol x1, tx total");
        assertLt(total, 100_000);
    }

    function test_gas_enrolBatch50() public {
        uint256 total = _measure(abi.encodeCall(enrolments.enrolBatch, (_batch(50))), "enrolBatch x50, tx total");
        console.log("  per resident", total / 50);
        assertLt(total / 50, 60_000);
    }

    /// @dev The product's path: the enroller signs, the relayer submits through the forwarder (the
    /// enroller's first request: the forwarder creates their nonce slot).
    function test_gas_enrolRelayed() public {
        bytes memory call_ = abi.encodeCall(enrolments.enrol, (vm.addr(residentKey(1)), DESK, keccak256("c")));
        ERC2771Forwarder.ForwardRequestData memory r = staffRequest(deskKey, address(enrolments), call_);
        bytes memory data = abi.encodeCall(forwarder.execute, (r));
        vm.cool(address(enrolments));
        vm.cool(address(forwarder));
        vm.prank(relayer);
        (bool ok,) = address(forwarder).call(data);
        assertTrue(ok);
        uint256 total = 21_000 + calldataGas(data) + vm.lastCallGas().gasTotalUsed;
        console.log("enrol x1 relayed through the forwarder, tx total", total);
        assertTrue(enrolments.isEnrolled(vm.addr(residentKey(1))));
    }

    /// @dev The cost a contract-side check would add to every action: a cold external call of
    /// {isEnrolled} (cold account access of the registry once per batch, a cold slot per resident).
    function test_gas_coldIsEnrolledCheck() public {
        EnrolmentProbe probe = new EnrolmentProbe(enrolments);
        IEnrolmentRegistry.Enrolment[] memory b = _batch(100);
        vm.prank(desk);
        enrolments.enrolBatch(b);
        address[] memory residents = new address[](100);
        for (uint256 i; i < 100; ++i) {
            residents[i] = b[i].resident;
        }
        vm.cool(address(enrolments));
        vm.cool(address(probe));
        assertTrue(probe.check(residents[0]));
        uint256 one = vm.lastCallGas().gasTotalUsed;
        vm.cool(address(enrolments));
        vm.cool(address(probe));
        assertEq(probe.checkAll(residents), 100);
        uint256 hundred = vm.lastCallGas().gasTotalUsed;
        uint256 empty = _emptyLoopGas(probe);
        console.log("cold isEnrolled, one call (execution)", one);
        console.log("cold isEnrolled x100, execution per resident", (hundred - empty) / 100);
        assertGt((hundred - empty) / 100, 2_100); // at least the cold SLOAD
    }

    function _emptyLoopGas(EnrolmentProbe probe) internal returns (uint256) {
        vm.cool(address(enrolments));
        vm.cool(address(probe));
        probe.checkAll(new address[](0));
        return vm.lastCallGas().gasTotalUsed;
    }
}
