"""Talk to a bot as a member, through the Telegram emulator (``make chat``).

    python -m tools.chat --emulator http://127.0.0.1:58081 --bot 7000000001 --user 1001

The bot's messages appear as they arrive (and again when edited), with their
buttons: inline buttons numbered ``[1]``, reply-keyboard buttons lettered
``(a)``. Type text to send it; ``!1`` (or just ``1``) presses inline button 1
of the latest message that has inline buttons; ``#1`` (or ``a``) sends the
text of the first reply-keyboard button; ``/start [payload]`` opens the bot
(a deep link with a payload); a leading ``'`` sends the rest literally
(``'1`` sends "1"); ``/quit`` or Ctrl-D leaves. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import string
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

Message = dict[str, Any]


@dataclass(frozen=True)
class Send:
    """Send this text as the member."""

    text: str


@dataclass(frozen=True)
class Start:
    """Open the bot, optionally with a deep-link payload."""

    payload: str | None


@dataclass(frozen=True)
class Press:
    """Press an inline button."""

    message_id: int
    data: str


@dataclass(frozen=True)
class Quit:
    """Leave the chat."""


@dataclass(frozen=True)
class Problem:
    """Input that names no button; shown to the person, nothing is sent."""

    text: str


Action = Send | Start | Press | Quit | Problem


def inline_buttons(message: Message) -> list[tuple[str, str]]:
    """(text, callback_data) of a message's inline buttons, in reading order."""
    markup = message.get("reply_markup") or {}
    return [
        (button["text"], button["callback_data"])
        for row in markup.get("inline_keyboard", [])
        for button in row
        if "callback_data" in button
    ]


def reply_buttons(message: Message) -> list[str]:
    """Texts of a message's reply-keyboard buttons, in reading order."""
    markup = message.get("reply_markup") or {}
    return [
        button if isinstance(button, str) else button["text"]
        for row in markup.get("keyboard", [])
        for button in row
    ]


def render(message: Message) -> str:
    """A bot message as the terminal shows it: text, then its buttons."""
    body = message.get("text") or message.get("caption") or ""
    if message.get("media"):
        body = f"[{message['media']['type']}] {body}".rstrip()
    lines = ["bot: " + body.replace("\n", "\n     ")]
    if message.get("edit_date"):
        lines[0] = "bot (edited): " + lines[0][5:]
    inline = inline_buttons(message)
    if inline:
        lines.append("     " + "  ".join(f"[{i}] {t}" for i, (t, _) in enumerate(inline, 1)))
    keyboard = reply_buttons(message)
    if keyboard:
        lines.append(
            "     "
            + "  ".join(f"({string.ascii_lowercase[i]}) {t}" for i, t in enumerate(keyboard))
        )
    return "\n".join(lines)


def press_button(number: int, messages: list[Message]) -> Press | Problem:
    """Inline button ``number`` (from 1) of the latest bot message that has inline buttons."""
    from_bot = [m for m in messages if m.get("from_bot")]
    latest = next((m for m in reversed(from_bot) if inline_buttons(m)), None)
    if latest is None:
        return Problem("no message with buttons to press")
    buttons = inline_buttons(latest)
    if not 1 <= number <= len(buttons):
        return Problem(f"choose a button from 1 to {len(buttons)}")
    return Press(int(latest["message_id"]), buttons[number - 1][1])


def keyboard_button(number: int, messages: list[Message]) -> Send | Problem:
    """The text of reply-keyboard button ``number`` (from 1; ``(a)`` is 1) of the latest one."""
    from_bot = [m for m in messages if m.get("from_bot")]
    latest = next((m for m in reversed(from_bot) if reply_buttons(m)), None)
    keyboard = reply_buttons(latest) if latest else []
    if not keyboard:
        return Problem("no keyboard buttons to choose from")
    if not 1 <= number <= len(keyboard):
        return Problem(f"choose a keyboard button from 1 to {len(keyboard)}")
    return Send(keyboard[number - 1])


def interpret(line: str, messages: list[Message]) -> Action | None:
    """What a typed line means, given the chat so far (None: nothing to do)."""
    line = line.strip()
    if not line:
        return None
    if line.startswith("'"):
        return Send(line[1:])
    if line in ("/quit", "/exit"):
        return Quit()
    if line == "/start" or line.startswith("/start "):
        payload = line[len("/start") :].strip()
        return Start(payload or None)
    # "!2" / "#2" are explicit; a bare "2" / "b" is the short form of the same.
    if line[:1] == "!" and line[1:].isdigit():
        return press_button(int(line[1:]), messages)
    if line[:1] == "#" and line[1:].isdigit():
        return keyboard_button(int(line[1:]), messages)
    if line.isdigit():
        return press_button(int(line), messages)
    if len(line) == 1 and line in string.ascii_lowercase:
        return keyboard_button(string.ascii_lowercase.index(line) + 1, messages)
    return Send(line)


def describe_error(status: int, body: str) -> str:
    """A failed control call as one line: the emulator's ``error`` text when it gave one."""
    try:
        detail = json.loads(body)
    except ValueError:
        detail = None
    if isinstance(detail, dict) and isinstance(detail.get("error"), str):
        return f"emulator refused ({status}): {detail['error']}"
    return f"emulator answered {status}: {body.strip() or '(empty)'}"


class Chat:
    """One member's private chat with the bot, over the emulator's control API."""

    def __init__(self, emulator: str, bot: int, user: int, name: str) -> None:
        self._base = f"{emulator.rstrip('/')}/control/bots/{bot}"
        self._user = user
        self._name = name
        self._shown: dict[int, Any] = {}
        self._lock = threading.Lock()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self._base + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=70) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")
            raise RuntimeError(describe_error(error.code, detail)) from None

    def messages(self) -> list[Message]:
        """Every message of the chat, oldest first."""
        answer = self._call("GET", f"/chats/{self._user}/messages")
        return list(answer["messages"])

    def act(self, action: Send | Start | Press) -> dict[str, Any]:
        """Carry out an action; returns the emulator's delivery report."""
        who = {"first_name": self._name}
        base = f"/users/{self._user}"
        if isinstance(action, Send):
            return dict(self._call("POST", base + "/messages", {"text": action.text, **who}))
        if isinstance(action, Start):
            body = {**who, **({"payload": action.payload} if action.payload else {})}
            return dict(self._call("POST", base + "/start", body))
        return dict(
            self._call(
                "POST", base + "/press", {"message_id": action.message_id, "data": action.data}
            )
        )

    def show_new(self, messages: list[Message]) -> list[str]:
        """Renderings of bot messages not shown yet, or changed since."""
        fresh = []
        with self._lock:
            for message in messages:
                if not message.get("from_bot"):
                    continue
                version = (
                    message.get("text"),
                    message.get("reply_markup"),
                    message.get("edit_date"),
                )
                if self._shown.get(message["message_id"]) != version:
                    self._shown[message["message_id"]] = version
                    fresh.append(render(message))
        return fresh


def _watch(chat: Chat, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            for text in chat.show_new(chat.messages()):
                print(f"\r{text}\n> ", end="", flush=True)
        except (OSError, RuntimeError):
            pass  # the emulator restarting; the next poll catches up
        stop.wait(0.3)


def main() -> None:
    """Run the interactive chat.

    One function on purpose: it is the read-act-print loop of a terminal
    session, read top-down; each ``continue`` is a line that sends nothing.
    """
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--emulator", default="http://127.0.0.1:58081")
    parser.add_argument("--bot", type=int, required=True, help="the bot's id (token prefix)")
    parser.add_argument("--user", type=int, default=1001, help="your Telegram user id here")
    parser.add_argument("--name", default=None, help="your first name (default: Member <user>)")
    args = parser.parse_args()
    chat = Chat(args.emulator, args.bot, args.user, args.name or f"Member {args.user}")
    try:
        history = chat.messages()
    except (OSError, RuntimeError) as error:
        sys.exit(f"cannot reach the emulator at {args.emulator}: {error} (is `make up` running?)")
    print(
        f"You are member {args.user}. Type text; !N presses inline button N, "
        "#N sends keyboard button N; /start [payload]; /quit to leave."
    )
    for text in chat.show_new(history)[-1:]:  # earlier messages count as seen
        print(text)
    if not history:
        try:
            chat.act(Start(None))
        except (OSError, RuntimeError) as error:
            print(f"  (/start not delivered: {error})")
    stop = threading.Event()
    threading.Thread(target=_watch, args=(chat, stop), daemon=True).start()
    try:
        for line in sys.stdin:
            if isinstance(interpret(line, []), Quit):
                break  # leaving needs no emulator
            try:
                messages = chat.messages()
            except (OSError, RuntimeError) as error:
                print(f"  (cannot read the chat: {error})\n> ", end="", flush=True)
                continue
            action = interpret(line, messages)
            if isinstance(action, Quit):
                break
            if isinstance(action, Problem):
                print(f"  ({action.text})\n> ", end="", flush=True)
                continue
            if action is None:
                continue
            try:
                report = chat.act(action)
            except (OSError, RuntimeError) as error:
                print(f"  (not delivered: {error})\n> ", end="", flush=True)
                continue
            if report.get("status") not in (200, None):
                print(f"  (the bot's webhook answered {report.get('status')})")
            for text in chat.show_new(chat.messages()):
                print(text)
            answer = report.get("answer") or {}
            if answer.get("text"):
                print(f"  ⓘ {answer['text']}")
            print("> ", end="", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()


if __name__ == "__main__":
    main()
