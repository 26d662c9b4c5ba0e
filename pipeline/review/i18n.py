"""Every string the review app shows, one dict per language (Vietnamese first).

Templates call `t(key)`; a key missing from English falls back to Vietnamese, and a key
missing from both shows the key itself (a test checks both dicts have the same keys).
"""
from __future__ import annotations

from pipeline.store.vocabulary import AnswerStatus, FlagReason

LANGUAGES = ("vi", "en")

REASONS: dict[str, dict[str, str]] = {
    "vi": {
        FlagReason.MARGINAL: "Dấu mờ, chưa chắc",
        FlagReason.OVERVOTE: "Chọn nhiều hơn một",
        FlagReason.LOW_CONFIDENCE: "Ý kiến cần nhập lại",
        FlagReason.NOT_TRANSCRIBED: "Ý kiến chưa được đọc",
        FlagReason.UNREADABLE: "Trang không đọc được",
        FlagReason.UNKNOWN_FORM: "Mẫu phiếu không rõ",
        FlagReason.DUPLICATE: "Phiếu trùng số",
        FlagReason.MISSING_PAGE: "Thiếu trang",
        FlagReason.BLANK_BALLOT: "Phiếu trắng",
        FlagReason.OFF_PAGE: "Câu hỏi nằm ngoài ảnh chụp",
        FlagReason.FOLDED: "Góc phiếu gấp che câu hỏi",
        FlagReason.BETWEEN: "Dấu nằm giữa hai lựa chọn",
        FlagReason.CORRECTION: "Sửa câu trả lời",
    },
    "en": {
        FlagReason.MARGINAL: "Marginal mark",
        FlagReason.OVERVOTE: "Overvote",
        FlagReason.LOW_CONFIDENCE: "Comment to transcribe",
        FlagReason.NOT_TRANSCRIBED: "Comment not read",
        FlagReason.UNREADABLE: "Unreadable page",
        FlagReason.UNKNOWN_FORM: "Unknown form",
        FlagReason.DUPLICATE: "Duplicate sheet",
        FlagReason.MISSING_PAGE: "Missing page",
        FlagReason.BLANK_BALLOT: "Blank ballot",
        FlagReason.OFF_PAGE: "Question outside the photo",
        FlagReason.FOLDED: "A fold covers the question",
        FlagReason.BETWEEN: "A mark between two options",
        FlagReason.CORRECTION: "Correction",
    },
}

ACTIONS: dict[str, dict[str, str]] = {
    "vi": {
        "answer": "Chọn phương án",
        "text": "Lưu ý kiến",
        AnswerStatus.NO_ANSWER: "Không trả lời",
        AnswerStatus.INVALID: "Không hợp lệ",
        "keep_first": "Giữ bản đã đếm, bỏ bản này",
        "reject_sheet": "Loại cả phiếu",
        "assign": "Gán cho phiếu số",
        "reject_page": "Loại trang",
        "accept": "Chấp nhận, đếm phiếu",
        "undo": "Hoàn tác",
        "key_in": "Nhập tay các câu trả lời",
    },
    "en": {
        "answer": "Choose option(s)",
        "text": "Save the comment",
        AnswerStatus.NO_ANSWER: "No answer",
        AnswerStatus.INVALID: "Invalid",
        "keep_first": "Keep the counted copy, set this one aside",
        "reject_sheet": "Reject the whole sheet",
        "assign": "Assign to sheet serial",
        "reject_page": "Reject the page",
        "accept": "Accept, count the sheet",
        "undo": "Undo",
        "key_in": "Key in the answers",
    },
}

STRINGS: dict[str, dict[str, str]] = {
    "vi": {
        "app_title": "Duyệt phiếu",
        "queue": "Hàng chờ duyệt",
        "progress": "Tiến độ",
        "items_done": "mục đã xử lý",
        "open_count": "còn",
        "total": "tổng",
        "start": "Bắt đầu duyệt",
        "start_all": "Duyệt tất cả",
        "nothing_left": "Không còn mục nào chờ duyệt.",
        "nothing_left_reason": "Không còn mục nào của loại này (hoặc người khác đang duyệt).",
        "reviewer": "Người duyệt",
        "your_name": "Tên của bạn (ghi cùng mọi quyết định)",
        "continue": "Tiếp tục",
        "change_name": "Đổi tên",
        "language": "English",
        "password": "Mật khẩu",
        "login": "Đăng nhập",
        "wrong_password": "Sai mật khẩu.",
        "sheet": "Phiếu số",
        "form": "Mẫu",
        "question": "Câu",
        "page": "Trang",
        "source": "Tệp quét",
        "score": "Điểm mực",
        "state": "Trạng thái",
        "machine_reading": "Máy đọc",
        "person_answer": "Người duyệt đã chọn",
        "ocr_text": "Chữ máy đọc được (OCR)",
        "confidence": "độ tin cậy",
        "whole_page": "Xem cả trang",
        "keys_help": "Phím: mã phương án để chọn · 0 không trả lời · x không hợp lệ · Enter xác nhận "
                     "và sang mục sau · ← → di chuyển · Backspace/u hoàn tác · Esc về hàng chờ",
        "text_keys_help": "Gõ đúng chữ trong ảnh · Enter lưu và sang mục sau · Shift+Enter xuống dòng · "
        "Alt+0 không có ý kiến · Alt+X không đọc được (báo cáo in ảnh) · Esc về hàng chờ",
        "type_comment": "Gõ lại ý kiến như trong ảnh",
        "no_comment": "Không có ý kiến",
        "illegible": "Không đọc được (in ảnh)",
        "empty_comment": "Hãy gõ ý kiến, hoặc Alt+0 (không có ý kiến), Alt+X (không đọc được).",
        "sheet_keys_help": "Phím: k lựa chọn đầu (giữ/chấp nhận) · r loại · Enter xác nhận lựa chọn "
                           "(mặc định k) · ← → di chuyển · Backspace/u hoàn tác · Esc về hàng chờ",
        "page_keys_help": "Nhập tay các câu trả lời ở trên để đếm trang · hoặc gõ số phiếu ở ô này rồi "
                          "Enter để gán (không đếm câu trả lời) · Esc rồi r để loại trang · Esc lần "
                          "nữa về hàng chờ · p xem cả trang",
        "confirm": "Xác nhận (Enter)",
        "prev": "← Mục trước",
        "next": "Mục sau →",
        "back_to_queue": "Về hàng chờ",
        "history": "Lịch sử quyết định",
        "before": "Trước",
        "after": "Sau",
        "when": "Lúc",
        "who": "Người",
        "action": "Việc",
        "saved": "Đã lưu quyết định.",
        "undone": "Đã hoàn tác.",
        "resolved_item": "Mục này đã được xử lý; bạn vẫn có thể sửa hoặc hoàn tác.",
        "taken": "Người khác đang duyệt mục này",
        "serial_to_assign": "Số phiếu (in dưới mã QR)",
        "detail": "Chi tiết",
        "sheet_status": "Trạng thái phiếu",
        "page_status": "Trạng thái trang",
        "logout": "Thoát",
        "no_image": "Không có ảnh trang.",
        "marked": "có dấu",
        "marginal_state": "mờ",
        "empty": "trống",
        "this_copy": "Bản này (trùng số)",
        "counted_copy": "Bản đã được đếm",
        "key_in_title": "Nhập tay trang này",
        "key_in_help": "Gõ số phiếu, rồi mỗi câu một phím (mã ở cạnh phương án; nhiều phương án: "
                       "gõ liền, ví dụ 13) · 0 không trả lời · x không hợp lệ · Alt+X ý kiến không "
                       "đọc được · Tab sang câu sau "
                       "· Enter sang câu còn trống, hết câu trống thì lưu cả trang",
        "key_machine": "Máy đã đọc trang này theo nội dung in (không đọc được mã QR): câu máy chắc "
                       "chắn đã điền sẵn; câu máy chưa chắc để trống. Gõ số phiếu, đối chiếu với "
                       "ảnh rồi nhập các câu còn trống.",
        "key_from_machine": "máy đọc",
        "key_unsure": "Máy chưa chắc, xem giấy",
        "key_seen": "máy thấy mực ở",
        "key_seen_text": "máy đọc được",
        "key_form": "Mẫu phiếu",
        "key_page": "Trang",
        "key_serial": "Số phiếu (in dưới mã QR)",
        "key_save": "Lưu trang nhập tay (Enter)",
        "sheet_pages": "Các trang của phiếu",
        "no_sheet_page": "Chưa có trang nào của phiếu này được đọc.",
        "printed_rule": "Quy tắc sửa in trên phiếu",
        "capture_title": "Chụp phiếu",
        "capture_intro": "Đặt phiếu lên mặt phẳng đủ sáng, chụp cả trang (cả bốn góc và mã QR). "
                         "Mỗi ảnh được đọc ngay.",
        "capture_take": "Chụp phiếu",
        "capture_again": "Chụp lại",
        "capture_reading": "Đang đọc…",
        "capture_back": "Về hàng chờ duyệt",
        "capture_limits": "Ảnh JPEG, PNG hoặc WebP, tối đa",
        "capture_too_large": "Ảnh quá lớn / the photo is too large",
        "capture_lost": "Mất kết nối với máy chủ: gửi lại / lost the connection to the server: "
                        "send it again",
    },
    "en": {
        "app_title": "Ballot review",
        "queue": "Review queue",
        "progress": "Progress",
        "items_done": "items done",
        "open_count": "still open",
        "total": "total",
        "start": "Start reviewing",
        "start_all": "Review everything",
        "nothing_left": "Nothing left to review.",
        "nothing_left_reason": "No item of this kind is left (or others are on them).",
        "reviewer": "Reviewer",
        "your_name": "Your name (kept with every decision)",
        "continue": "Continue",
        "change_name": "Change name",
        "language": "Tiếng Việt",
        "password": "Password",
        "login": "Log in",
        "wrong_password": "Wrong password.",
        "sheet": "Sheet serial",
        "form": "Form",
        "question": "Question",
        "page": "Page",
        "source": "Scanned file",
        "score": "Ink score",
        "state": "State",
        "machine_reading": "Machine reading",
        "person_answer": "Reviewer's answer",
        "ocr_text": "Text the machine read (OCR)",
        "confidence": "confidence",
        "whole_page": "Whole page",
        "keys_help": "Keys: option code to pick · 0 no answer · x invalid · Enter confirm and go on "
                     "· ← → move · Backspace/u undo · Esc back to the queue",
        "text_keys_help": "Type what the image shows · Enter saves and goes on · Shift+Enter new line · "
        "Alt+0 no comment · Alt+X illegible (the report prints the image) · Esc back to the queue",
        "type_comment": "Type the comment as written",
        "no_comment": "No comment",
        "illegible": "Illegible (print the image)",
        "empty_comment": "Type the comment, or Alt+0 (no comment), Alt+X (illegible).",
        "sheet_keys_help": "Keys: k first choice (keep/accept) · r reject · Enter confirms the choice "
                           "(k by default) · ← → move · Backspace/u undo · Esc back to the queue",
        "page_keys_help": "Key in the answers above to count the page · or type the serial here and "
                          "Enter to assign it (its answers not counted) · Esc then r to reject the "
                          "page · Esc again for the queue · p whole page",
        "confirm": "Confirm (Enter)",
        "prev": "← Previous",
        "next": "Next →",
        "back_to_queue": "Back to the queue",
        "history": "Decisions so far",
        "before": "Before",
        "after": "After",
        "when": "When",
        "who": "Who",
        "action": "Action",
        "saved": "Decision saved.",
        "undone": "Undone.",
        "resolved_item": "This item is resolved; you can still change or undo it.",
        "taken": "Someone else is reviewing this item",
        "serial_to_assign": "Sheet serial (printed under the QR code)",
        "detail": "Detail",
        "sheet_status": "Sheet status",
        "page_status": "Page status",
        "logout": "Log out",
        "no_image": "No page image.",
        "marked": "marked",
        "marginal_state": "marginal",
        "empty": "empty",
        "this_copy": "This copy (same serial)",
        "counted_copy": "The copy that counts",
        "key_in_title": "Key in this page",
        "key_in_help": "Type the serial, then one key per question (the key beside the option; "
                       "several options: type them together, e.g. 13) · 0 no answer · x invalid "
                       "· Alt+X a comment illegible "
                       "· Tab next question · Enter the next question still empty; with none "
                       "left, it saves the page",
        "key_machine": "The machine read this page by its print (its QR code unread): the answers "
                       "it was sure of are filled in, those it was unsure of are empty. Type the "
                       "serial, check them against the image and key the empty ones.",
        "key_from_machine": "machine's",
        "key_unsure": "The machine is unsure: check the paper",
        "key_seen": "ink seen at",
        "key_seen_text": "it read",
        "key_form": "Form",
        "key_page": "Page",
        "key_serial": "Serial (printed under the QR code)",
        "key_save": "Save the keyed page (Enter)",
        "sheet_pages": "The sheet's pages",
        "no_sheet_page": "No page of this sheet has been read yet.",
        "printed_rule": "The correction rule printed on the form",
        "capture_title": "Photograph ballots",
        "capture_intro": "Lay the ballot flat in good light and get the whole page in (all four "
                         "corners and the QR code). Each photo is read at once.",
        "capture_take": "Take a photo",
        "capture_again": "Take it again",
        "capture_reading": "Reading…",
        "capture_back": "Back to the review queue",
        "capture_limits": "JPEG, PNG or WebP photos, at most",
        "capture_too_large": "The photo is too large",
        "capture_lost": "Lost the connection to the server: send it again",
    },
}


def text(key: str, lang: str) -> str:
    """The string `key` in `lang` (Vietnamese when missing)."""
    return STRINGS.get(lang, {}).get(key) or STRINGS["vi"].get(key, key)


def reason_label(reason: str, lang: str) -> str:
    """A flag reason as a person reads it."""
    return REASONS.get(lang, {}).get(reason) or REASONS["vi"].get(reason, reason)


def action_label(action: str, lang: str) -> str:
    """A decision's action as a person reads it."""
    return ACTIONS.get(lang, {}).get(action) or ACTIONS["vi"].get(action, action)
