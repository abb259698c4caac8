// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IParticipationToken} from "./IParticipationToken.sol";
import {IFeedbackBox} from "./IFeedbackBox.sol";
import {ResidentSlot} from "./Common.sol";
import {SignedActions} from "./SignedActions.sol";
import {StaffAccess} from "./StaffAccess.sol";

/// @title FeedbackBox
/// @notice The virtual mayor's office feedback box: residents submit feedback (its hash; the text
/// stays off-chain) and agree with others' feedback through signed actions the relayer batches;
/// enough supports oblige the city to answer within a window; the ESG team reviews, answers
/// (accepted feedback earns its author points) and closes items; moderators hide abuse, with a reason.
contract FeedbackBox is SignedActions, StaffAccess, IFeedbackBox {
    /// @notice Holders may submit batches of signed submissions and supports.
    bytes32 public constant RELAYER_ROLE = keccak256("RELAYER_ROLE");
    /// @notice Holders change categories, thresholds, caps and the reward.
    bytes32 public constant POLICY_ROLE = keccak256("POLICY_ROLE");
    /// @notice Holders (the ESG team) review, answer and close items.
    bytes32 public constant REVIEWER_ROLE = keccak256("REVIEWER_ROLE");
    /// @notice Holders hide and show items.
    bytes32 public constant MODERATOR_ROLE = keccak256("MODERATOR_ROLE");
    /// @notice Largest batch: 64 worst-case entries (new residents, ERC-1271 wallets) stay far under 2**24 gas.
    uint256 public constant MAX_BATCH = 64;

    /// @notice EIP-712 type of a submission.
    string public constant FEEDBACK_TYPE =
        "Feedback(address resident,uint16 category,uint32 areaCode,bytes32 contentHash,uint64 nonce,uint64 deadline)";
    /// @notice keccak256 of {FEEDBACK_TYPE} (hashed from the literal so the compiler folds it).
    bytes32 public constant FEEDBACK_TYPEHASH = keccak256(
        "Feedback(address resident,uint16 category,uint32 areaCode,bytes32 contentHash,uint64 nonce,uint64 deadline)"
    );
    /// @notice EIP-712 type of a support.
    string public constant SUPPORT_TYPE = "Support(address resident,uint64 itemId,uint64 nonce,uint64 deadline)";
    /// @notice keccak256 of {SUPPORT_TYPE}.
    bytes32 public constant SUPPORT_TYPEHASH = keccak256("Support(address resident,uint64 itemId,uint64 nonce,uint64 deadline)");

    IParticipationToken private immutable _token;
    Settings private _settings;
    uint256 private _acceptedReward;
    uint256 private _itemCount;
    uint256[] private _obliged;
    mapping(uint256 itemId => Item) private _items;
    mapping(uint256 itemId => mapping(address resident => bool)) private _supported;
    mapping(uint16 category => bool) private _categories;

    /// @param token_ The participation token; this contract needs its MINTER_ROLE.
    /// @param admin Receives DEFAULT_ADMIN_ROLE and POLICY_ROLE.
    /// @param initialSettings The first thresholds and caps.
    /// @param acceptedReward_ Points for the author of accepted feedback.
    /// @param trustedForwarder_ The {StaffForwarder} through which staff act as themselves (address(0): none).
    constructor(
        IParticipationToken token_,
        address admin,
        Settings memory initialSettings,
        uint256 acceptedReward_,
        address trustedForwarder_
    ) SignedActions("FeedbackBox", "1") StaffAccess(trustedForwarder_) {
        _token = token_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(POLICY_ROLE, admin);
        _setSettings(admin, initialSettings);
        _acceptedReward = acceptedReward_;
        emit FeedbackRewardUpdated(admin, acceptedReward_);
    }

    /// @notice Records a batch of signed submissions; an invalid one emits {ActionFailed} and the rest go on.
    /// @dev Requirements: RELAYER_ROLE; 1 to MAX_BATCH entries. Emits {FeedbackSubmitted} or {ActionFailed} per entry.
    /// @param batch The signed submissions.
    /// @return failedMask Bit i is set when entry i was not recorded.
    function submitBatch(SignedFeedback[] calldata batch) external onlyRole(RELAYER_ROLE) returns (uint256 failedMask) {
        uint256 n = _checkBatchSize(batch.length);
        Settings memory cfg = _settings;
        uint64 now_ = _time();
        for (uint256 i; i < n; ++i) {
            // forge-lint: disable-next-line(incorrect-shift)
            if (!_submitOne(batch[i], cfg, now_)) failedMask |= 1 << i;
        }
    }

    /// @notice Records a batch of signed supports; an invalid one emits {ActionFailed} and the rest go on.
    /// @dev Requirements: RELAYER_ROLE; 1 to MAX_BATCH entries. Emits {FeedbackSupported} or {ActionFailed}
    /// per entry, and {FeedbackAnswerRequired} when an item reaches the support threshold.
    /// @param batch The signed supports.
    /// @return failedMask Bit i is set when entry i was not recorded.
    function supportBatch(SignedSupport[] calldata batch) external onlyRole(RELAYER_ROLE) returns (uint256 failedMask) {
        uint256 n = _checkBatchSize(batch.length);
        Settings memory cfg = _settings;
        uint64 now_ = _time();
        for (uint256 i; i < n; ++i) {
            // forge-lint: disable-next-line(incorrect-shift)
            if (!_supportOne(batch[i], cfg, now_)) failedMask |= 1 << i;
        }
    }

    /// @notice Why `item` would not be recorded now (ABI-encoded custom error), or empty bytes if it would.
    /// @param entry The signed submission.
    function checkFeedback(SignedFeedback calldata entry) external view returns (bytes memory reason) {
        Feedback calldata f = entry.feedback;
        reason = _validateFeedback(f, _readSlot(f.resident), _settings, _time());
        // An empty reason means "no error", not a balance or time equality (slither false positive).
        // slither-disable-next-line incorrect-equality
        if (reason.length == 0) reason = _checkSignature(f.resident, feedbackDigest(f), f.deadline, entry.signature);
    }

    /// @notice Why `item` would not be recorded now (ABI-encoded custom error), or empty bytes if it would.
    /// @param entry The signed support.
    function checkSupport(SignedSupport calldata entry) external view returns (bytes memory reason) {
        Support calldata s = entry.support;
        reason = _validateSupport(s, _readSlot(s.resident), _settings, _time());
        // An empty reason means "no error", not a balance or time equality (slither false positive).
        // slither-disable-next-line incorrect-equality
        if (reason.length == 0) reason = _checkSignature(s.resident, supportDigest(s), s.deadline, entry.signature);
    }

    /// @notice The EIP-712 digest a resident signs for a submission.
    /// @param f The submission.
    function feedbackDigest(Feedback calldata f) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(FEEDBACK_TYPEHASH, f)));
    }

    /// @notice The EIP-712 digest a resident signs for a support.
    /// @param s The support.
    function supportDigest(Support calldata s) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(SUPPORT_TYPEHASH, s)));
    }

    /// @notice Takes an item under review.
    /// @dev Requirements: REVIEWER_ROLE; the item is Submitted. Emits {FeedbackReviewStarted}.
    /// @param itemId The item.
    function startReview(uint256 itemId) external onlyRole(REVIEWER_ROLE) {
        Item storage it = _itemWithStatus(itemId, ItemStatus.Submitted);
        it.status = ItemStatus.UnderReview;
        emit FeedbackReviewStarted(itemId, _msgSender());
    }

    /// @notice Records the official answer; accepted feedback earns its author the accepted-feedback reward.
    /// @dev Requirements: REVIEWER_ROLE; the item is UnderReview; a non-zero answer hash; the token is not
    /// paused when a reward is due. Emits {FeedbackAnswered} and, with a reward, the token's {Transfer}.
    /// @param itemId The item.
    /// @param accepted Whether the city accepts the feedback.
    /// @param answerHash keccak256 of the answer's text (kept off-chain).
    function answer(uint256 itemId, bool accepted, bytes32 answerHash) external onlyRole(REVIEWER_ROLE) {
        Item storage it = _itemWithStatus(itemId, ItemStatus.UnderReview);
        if (answerHash == bytes32(0)) revert FeedbackBoxEmptyAnswer(itemId);
        it.status = ItemStatus.Answered;
        it.accepted = accepted;
        it.answerHash = answerHash;
        // Timestamps fit 40 bits until the year 36,812.
        // forge-lint: disable-next-line(unsafe-typecast)
        it.answeredAt = uint40(_time());
        uint256 reward = accepted ? _acceptedReward : 0;
        address author = it.author;
        emit FeedbackAnswered(itemId, _msgSender(), accepted, answerHash, reward);
        if (reward != 0) _token.mint(author, reward);
    }

    /// @notice Closes an answered item.
    /// @dev Requirements: REVIEWER_ROLE; the item is Answered. Emits {FeedbackClosed}.
    /// @param itemId The item.
    function close(uint256 itemId) external onlyRole(REVIEWER_ROLE) {
        _itemWithStatus(itemId, ItemStatus.Answered).status = ItemStatus.Closed;
        emit FeedbackClosed(itemId, _msgSender());
    }

    /// @notice Hides (or shows again) an item. Hidden items take no supports and are never overdue.
    /// @dev Requirements: MODERATOR_ROLE; the item exists; its state changes. Emits {FeedbackModerated}.
    /// @param itemId The item.
    /// @param hidden True to hide, false to show.
    /// @param reasonCode Why, from the moderation code list (0 = unspecified).
    function moderate(uint256 itemId, bool hidden, uint16 reasonCode) external onlyRole(MODERATOR_ROLE) {
        Item storage it = _items[itemId];
        if (it.status == ItemStatus.None) revert FeedbackBoxUnknownItem(itemId);
        if (it.hidden == hidden) revert FeedbackBoxModerationUnchanged(itemId, hidden);
        it.hidden = hidden;
        emit FeedbackModerated(itemId, _msgSender(), hidden, reasonCode);
    }

    /// @notice Adds, renames, enables or disables a category.
    /// @dev Requirements: POLICY_ROLE. Emits {FeedbackCategorySet}.
    /// @param category The category id.
    /// @param enabled Whether new feedback may use it.
    /// @param name Its display name (only logged).
    function setCategory(uint16 category, bool enabled, string calldata name) external onlyRole(POLICY_ROLE) {
        _categories[category] = enabled;
        emit FeedbackCategorySet(category, _msgSender(), enabled, name);
    }

    /// @notice Replaces the thresholds and caps (items already obliged keep their due date).
    /// @dev Requirements: POLICY_ROLE; non-zero caps; a window when there is a threshold. Emits {FeedbackSettingsUpdated}.
    /// @param newSettings The new settings.
    function setSettings(Settings calldata newSettings) external onlyRole(POLICY_ROLE) {
        _setSettings(_msgSender(), newSettings);
    }

    /// @notice Sets the points minted to the author of accepted feedback.
    /// @dev Requirements: POLICY_ROLE (held by CommunityRewards, which pushes its policy). Emits {FeedbackRewardUpdated}.
    /// @param reward Points per accepted feedback.
    function setAcceptedReward(uint256 reward) external onlyRole(POLICY_ROLE) {
        _acceptedReward = reward;
        emit FeedbackRewardUpdated(_msgSender(), reward);
    }

    /// @notice Items whose answer is overdue (threshold reached, not answered by the due date, not hidden),
    /// scanning the obliged items from index `cursor`, at most `limit` of them.
    /// @param cursor Index in the list of obliged items to start at (0 first).
    /// @param limit How many obliged items to scan.
    /// @return ids The overdue item ids found. @return next The cursor for the next page (== obligedCount() at the end).
    function overdueItems(uint256 cursor, uint256 limit) external view returns (uint256[] memory ids, uint256 next) {
        uint256 total = _obliged.length;
        next = cursor + limit < total ? cursor + limit : total;
        ids = new uint256[](next > cursor ? next - cursor : 0);
        uint256 found;
        uint64 now_ = _time();
        for (uint256 i = cursor; i < next; ++i) {
            uint256 id = _obliged[i];
            Item storage it = _items[id];
            if (
                !it.hidden && it.answerDueAt < now_
                    && (it.status == ItemStatus.Submitted || it.status == ItemStatus.UnderReview)
            ) ids[found++] = id;
        }
        // found <= ids.length: this only shortens the array.
        assembly ("memory-safe") {
            mstore(ids, found)
        }
    }

    /// @notice How many items ever reached the support threshold (the list {overdueItems} scans).
    function obligedCount() external view returns (uint256) {
        return _obliged.length;
    }

    /// @notice The item `itemId` (all zero when it does not exist).
    function item(uint256 itemId) external view returns (Item memory) {
        return _items[itemId];
    }

    /// @notice How many items were submitted; ids run from 1 to itemCount().
    function itemCount() external view returns (uint256) {
        return _itemCount;
    }

    /// @notice Whether `resident` supported item `itemId`.
    function hasSupported(uint256 itemId, address resident) external view returns (bool) {
        return _supported[itemId][resident];
    }

    /// @notice Whether new feedback may use `category`.
    function categoryEnabled(uint16 category) external view returns (bool) {
        return _categories[category];
    }

    /// @notice The thresholds and caps.
    function settings() external view returns (Settings memory) {
        return _settings;
    }

    /// @notice Points minted to the author of accepted feedback.
    function acceptedReward() external view returns (uint256) {
        return _acceptedReward;
    }

    /// @notice The participation token.
    function token() external view returns (IParticipationToken) {
        return _token;
    }

    function _submitOne(SignedFeedback calldata entry, Settings memory cfg, uint64 now_) private returns (bool) {
        Feedback calldata f = entry.feedback;
        bytes32 d = feedbackDigest(f);
        ResidentSlot memory slot = _readSlot(f.resident);
        bytes memory reason = _validateFeedback(f, slot, cfg, now_);
        // An empty reason means "no error", not a balance or time equality (slither false positive).
        // slither-disable-next-line incorrect-equality
        if (reason.length == 0) reason = _checkSignature(f.resident, d, f.deadline, entry.signature);
        if (reason.length != 0) {
            emit ActionFailed(d, f.resident, f.nonce, reason);
            return false;
        }
        _useNonce(slot, f.nonce);
        // _validateFeedback checked countToday < maxSubmissionsPerDay <= 255.
        unchecked {
            slot.countToday += 1;
        }
        _writeSlot(f.resident, slot);
        uint256 id = ++_itemCount;
        Item storage it = _items[id];
        it.author = f.resident;
        it.category = f.category;
        it.status = ItemStatus.Submitted;
        // Timestamps fit 40 bits until the year 36,812.
        // forge-lint: disable-next-line(unsafe-typecast)
        it.submittedAt = uint40(now_);
        it.contentHash = f.contentHash;
        emit FeedbackSubmitted(id, d, f.resident, f.category, f.areaCode, f.contentHash, f.nonce);
        return true;
    }

    function _supportOne(SignedSupport calldata entry, Settings memory cfg, uint64 now_) private returns (bool) {
        Support calldata s = entry.support;
        bytes32 d = supportDigest(s);
        ResidentSlot memory slot = _readSlot(s.resident);
        bytes memory reason = _validateSupport(s, slot, cfg, now_);
        // An empty reason means "no error", not a balance or time equality (slither false positive).
        // slither-disable-next-line incorrect-equality
        if (reason.length == 0) reason = _checkSignature(s.resident, d, s.deadline, entry.signature);
        if (reason.length != 0) {
            emit ActionFailed(d, s.resident, s.nonce, reason);
            return false;
        }
        _useNonce(slot, s.nonce);
        // _validateSupport checked amountToday < maxSupportsPerDay < 2**16.
        unchecked {
            slot.amountToday += 1;
        }
        _writeSlot(s.resident, slot);
        _supported[s.itemId][s.resident] = true;
        Item storage it = _items[s.itemId];
        // One support per resident per item: the count is at most the number of residents, far below 2**32.
        uint32 supportCount;
        unchecked {
            supportCount = it.supportCount + 1;
        }
        it.supportCount = supportCount;
        emit FeedbackSupported(s.itemId, d, s.resident, supportCount, s.nonce);
        if (supportCount == cfg.supportThreshold && it.answerDueAt == 0) {
            uint64 dueAt = now_ + cfg.answerWindowSeconds;
            // now_ + a uint32 window fits 40 bits until the year 36,812.
            // forge-lint: disable-next-line(unsafe-typecast)
            it.answerDueAt = uint40(dueAt);
            _obliged.push(s.itemId);
            emit FeedbackAnswerRequired(s.itemId, supportCount, dueAt);
        }
        return true;
    }

    function _validateFeedback(Feedback calldata f, ResidentSlot memory slot, Settings memory cfg, uint64 now_)
        private
        view
        returns (bytes memory reason)
    {
        reason = _checkNonce(slot, f.resident, f.nonce);
        if (reason.length != 0) return reason;
        if (!_categories[f.category]) return abi.encodeWithSelector(FeedbackBoxUnknownCategory.selector, f.category);
        if (f.contentHash == bytes32(0)) return abi.encodeWithSelector(FeedbackBoxEmptyContent.selector);
        _rollDay(slot, now_);
        if (slot.countToday >= cfg.maxSubmissionsPerDay) {
            return abi.encodeWithSelector(
                FeedbackBoxDailySubmissionsExceeded.selector, f.resident, cfg.maxSubmissionsPerDay
            );
        }
    }

    function _validateSupport(Support calldata s, ResidentSlot memory slot, Settings memory cfg, uint64 now_)
        private
        view
        returns (bytes memory reason)
    {
        reason = _checkNonce(slot, s.resident, s.nonce);
        if (reason.length != 0) return reason;
        Item storage it = _items[s.itemId];
        ItemStatus status = it.status;
        if (status == ItemStatus.None) return abi.encodeWithSelector(FeedbackBoxUnknownItem.selector, s.itemId);
        if (status != ItemStatus.Submitted && status != ItemStatus.UnderReview) {
            return abi.encodeWithSelector(FeedbackBoxWrongStatus.selector, s.itemId, status);
        }
        if (it.hidden) return abi.encodeWithSelector(FeedbackBoxItemHidden.selector, s.itemId);
        if (it.author == s.resident) return abi.encodeWithSelector(FeedbackBoxOwnItem.selector, s.itemId, s.resident);
        if (_supported[s.itemId][s.resident]) {
            return abi.encodeWithSelector(FeedbackBoxAlreadySupported.selector, s.itemId, s.resident);
        }
        _rollDay(slot, now_);
        if (slot.amountToday >= cfg.maxSupportsPerDay) {
            return abi.encodeWithSelector(FeedbackBoxDailySupportsExceeded.selector, s.resident, cfg.maxSupportsPerDay);
        }
    }

    function _itemWithStatus(uint256 itemId, ItemStatus wanted) private view returns (Item storage it) {
        it = _items[itemId];
        if (it.status == ItemStatus.None) revert FeedbackBoxUnknownItem(itemId);
        if (it.status != wanted) revert FeedbackBoxWrongStatus(itemId, it.status);
    }

    function _checkBatchSize(uint256 n) private pure returns (uint256) {
        if (n == 0 || n > MAX_BATCH) revert SignedActionsBatchSize(n, MAX_BATCH);
        return n;
    }

    function _setSettings(address by, Settings memory s) private {
        if (s.maxSubmissionsPerDay == 0 || s.maxSupportsPerDay == 0 || (s.supportThreshold != 0 && s.answerWindowSeconds == 0))
        {
            revert FeedbackBoxInvalidSettings();
        }
        _settings = s;
        emit FeedbackSettingsUpdated(by, s);
    }
}
