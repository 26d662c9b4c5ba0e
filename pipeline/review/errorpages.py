"""Error pages a clerk can act on: Vietnamese first, English second, a link to the queue.

Flask's own pages are bare English ("Forbidden"); a clerk who meets one after the server
restarted (the session key changes, so the CSRF token of an open page no longer fits)
should read what happened and what to do.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, Response, render_template
from werkzeug.exceptions import HTTPException, InternalServerError

# status -> title and message (Vietnamese, English). 403 is almost always the CSRF check:
# the page was opened before the server restarted or before a login or logout.
ERROR_TEXT: dict[int, dict[str, str]] = {
    400: {"title_vi": "Yêu cầu không hợp lệ", "title_en": "Bad request",
          "message_vi": "Máy chủ không hiểu yêu cầu này.",
          "message_en": "The server could not understand this request."},
    401: {"title_vi": "Cần đăng nhập", "title_en": "Login required",
          "message_vi": "Hãy đăng nhập bằng mật khẩu của đợt duyệt.",
          "message_en": "Log in with the review password."},
    403: {"title_vi": "Trang đã cũ", "title_en": "The page was out of date",
          "message_vi": "Trang này được mở trước khi máy chủ khởi động lại, hoặc trước khi bạn "
                        "đăng nhập hay thoát, nên không gửi được. Về hàng chờ và làm lại; "
                        "chưa có gì được ghi.",
          "message_en": "This page was opened before the server restarted, or before you "
                        "logged in or out, so it could not be sent. Go back to the queue and "
                        "do it again; nothing was recorded."},
    404: {"title_vi": "Không tìm thấy", "title_en": "Not found",
          "message_vi": "Không có mục hay ảnh này (có thể số trong địa chỉ bị gõ sai).",
          "message_en": "There is no such item or image (the number in the address may be "
                        "mistyped)."},
    405: {"title_vi": "Không dùng được cách này", "title_en": "Method not allowed",
          "message_vi": "Địa chỉ này không nhận yêu cầu kiểu này.",
          "message_en": "This address does not take this kind of request."},
    413: {"title_vi": "Nội dung quá lớn", "title_en": "Too large",
          "message_vi": "Nội dung gửi lên quá dài (một ý kiến chỉ vài dòng).",
          "message_en": "What was sent is too long (a comment is a few lines)."},
    429: {"title_vi": "Sai mật khẩu quá nhiều lần", "title_en": "Too many wrong passwords",
          "message_vi": "Đã có quá nhiều lần nhập sai mật khẩu. Hãy chờ rồi thử lại.",
          "message_en": "The password was wrong too many times. Wait, then try again."},
    500: {"title_vi": "Lỗi máy chủ", "title_en": "Server error",
          "message_vi": "Đã có lỗi trong máy chủ duyệt (được ghi trong nhật ký của nó). "
                        "Quyết định đang làm dở chưa được ghi; về hàng chờ và thử lại.",
          "message_en": "The review server met an error (written to its log). The decision "
                        "in progress was not recorded; go back to the queue and try again."},
}


def error_page(code: int, wait: int = 0) -> Response:
    """`error.html` for HTTP status `code` (a status without its own text gets the general
    one of its kind); `wait`: seconds before trying again, said on the page when given."""
    text = ERROR_TEXT.get(code) or ERROR_TEXT[500 if code >= 500 else 400]
    return Response(render_template("error.html", code=code, wait=wait, **text), code)


def register_error_pages(app: Flask) -> None:
    """Serve `error.html` for every HTTP error `app` raises (and for exceptions, as 500)."""

    def handle(error: Any) -> Any:
        if not isinstance(error, HTTPException):
            error = InternalServerError()  # Flask has logged the traceback already
        return error_page(error.code or 500)

    app.register_error_handler(HTTPException, handle)
    app.register_error_handler(Exception, handle)
