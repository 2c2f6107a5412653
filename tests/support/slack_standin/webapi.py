"""Web API method semantics: what each method checks, stores and answers.

Handlers take the parsed arguments and return the reply body; an application error is raised
as `ApiError` and becomes HTTP 200 with `ok: false`, as in Slack. Authentication, faults and
rate limits are applied before a handler runs (see `server.py`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from . import blockkit, shapes
from .records import Message, View
from .store import Channel, Store, random_id

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class ApiError(Exception):
    """An `ok: false` reply; `body` is exactly what the client receives."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.body = shapes.error(code, **extra)


class BodyError(ApiError):
    """An `ok: false` reply whose body is built elsewhere (the Block Kit validator)."""

    def __init__(self, body: dict[str, Any]) -> None:
        Exception.__init__(self, body["error"])
        self.body = body


class WebApi:
    """The Web API methods the stand-in implements, keyed by Slack's method name."""

    def __init__(
        self,
        store: Store,
        mint_socket_url: Callable[[], str],
        base_url: Callable[[], str] = lambda: "",
    ) -> None:
        self.store = store
        self.config = store.config
        self._mint_socket_url = mint_socket_url
        self._base_url = base_url
        self.uploads: dict[str, dict[str, Any]] = {}
        """Files by id: filename, the length announced, the bytes once uploaded."""
        self.methods: dict[str, Handler] = {
            "auth.test": self.auth_test,
            "apps.connections.open": self.connections_open,
            "chat.postMessage": self.post_message,
            "chat.update": self.update,
            "chat.postEphemeral": self.post_ephemeral,
            "chat.delete": self.delete,
            "conversations.info": self.conversations_info,
            "conversations.replies": self.conversations_replies,
            "conversations.history": self.conversations_history,
            "reactions.add": self.reactions_add,
            "users.info": self.users_info,
            "usergroups.users.list": self.usergroup_users,
            "views.open": self.views_open,
            "views.push": self.views_push,
            "views.update": self.views_update,
            "files.getUploadURLExternal": self.get_upload_url,
            "files.completeUploadExternal": self.complete_upload,
        }

    def call(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """Run one method; raises ApiError for `ok: false` and KeyError for unknown methods."""
        handler = self.methods[method]
        with self.store.lock:
            return handler(args)

    # files: Slack's upload flow (get a URL, POST the bytes to it, complete)

    def get_upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        """``files.getUploadURLExternal``: a file id and the URL its bytes go to."""
        if "files:write" not in self.config.scopes:
            provided = ",".join(sorted(self.config.scopes))
            raise ApiError("missing_scope", needed="files:write", provided=provided)
        filename, length = args.get("filename"), str(args.get("length") or "")
        if not filename or not length.isdigit() or int(length) <= 0:
            raise ApiError("invalid_arguments")
        file_id = random_id("F")
        self.uploads[file_id] = {"filename": filename, "length": int(length), "data": None}
        return {
            "ok": True,
            "upload_url": f"{self._base_url()}/upload/{file_id}",
            "file_id": file_id,
        }

    def receive_upload(self, file_id: str, data: bytes) -> bool:
        """The POST to an upload URL; False for an unknown file id."""
        with self.store.lock:
            found = self.uploads.get(file_id)
            if found is None:
                return False
            found["data"] = data
            return True

    def complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        """``files.completeUploadExternal``: share uploaded files, in a thread if asked."""
        files = args.get("files")
        if isinstance(files, str):
            files = json.loads(files)
        if not isinstance(files, list) or not files:
            raise ApiError("invalid_arguments")
        shared = []
        for entry in files:
            found = self.uploads.get(str(entry.get("id")))
            if found is None or found["data"] is None:
                raise ApiError("file_not_found")
            if len(found["data"]) != found["length"]:
                raise ApiError("file_upload_size_mismatch")
            shared.append({"id": entry["id"], "name": found["filename"],
                           "title": entry.get("title") or found["filename"],
                           "size": found["length"]})  # fmt: skip
        channel_id = args.get("channel_id") or args.get("channels")
        if channel_id:
            self._share(str(channel_id), args, tuple(shared))
        return {"ok": True, "files": shared}

    def _share(
        self, channel_id: str, args: dict[str, Any], files: tuple[dict[str, Any], ...]
    ) -> None:
        channel = self._writable(channel_id)
        thread_ts = args.get("thread_ts") or None
        if thread_ts is not None:
            thread_ts = self.store.thread_root(channel.id, str(thread_ts))
            if thread_ts is None:
                raise ApiError("thread_not_found")
        text = str(args.get("initial_comment") or "")
        self.store.put(
            self.bot_message(channel.id, text, [], thread_ts=thread_ts, metadata=None, files=files)
        )

    # identity

    def auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        c = self.config
        return shapes.auth_test(
            domain=c.team_domain,
            team=c.team_name,
            user=c.bot_user_name,
            team_id=c.team_id,
            user_id=c.bot_user_id,
            bot_id=c.bot_id,
        )

    def connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return shapes.connections_open(self._mint_socket_url())

    def users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.store.users.get(args.get("user") or "")
        if user is None:
            raise ApiError("user_not_found")
        return {"ok": True, "user": {**user, "team_id": self.config.team_id}}

    def usergroup_users(self, args: dict[str, Any]) -> dict[str, Any]:
        if "usergroups:read" not in self.config.scopes:
            provided = ",".join(sorted(self.config.scopes))
            raise ApiError("missing_scope", needed="usergroups:read", provided=provided)
        members = self.store.usergroups.get(args.get("usergroup") or "")
        if members is None:
            raise ApiError("no_such_subteam")
        return {"ok": True, "users": list(members)}

    # channels

    def _visible(self, ref: str | None) -> Channel:
        channel = self.store.find_channel(ref)
        bot = self.config.bot_user_id
        if channel is None or (channel.private and bot not in channel.members):
            raise ApiError("channel_not_found")
        return channel

    def _writable(self, ref: str | None) -> Channel:
        channel = self._visible(ref)
        if channel.archived:
            raise ApiError("is_archived")
        public_ok = self.config.chat_write_public and "chat:write.public" in self.config.scopes
        if self.config.bot_user_id not in channel.members and not public_ok:
            raise ApiError("not_in_channel")
        return channel

    def conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible(args.get("channel"))
        return {"ok": True, "channel": channel.to_api(self.config.bot_user_id)}

    def conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible(args.get("channel"))
        root = self.store.thread_root(channel.id, args.get("ts") or "")
        if root is None:
            raise ApiError("thread_not_found")
        oldest = float(args.get("oldest") or 0)
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        found = [
            m.to_api(with_metadata)
            for m in self.store.messages[channel.id].values()
            if not m.deleted and (m.ts == root or (m.thread_ts == root and float(m.ts) > oldest))
        ]
        return {"ok": True, "messages": found, "has_more": False}

    def conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """Top-level messages newest first, after ``oldest`` (exclusive), up to ``limit``."""
        channel = self._visible(args.get("channel"))
        needed = "groups:history" if channel.private else "channels:history"
        if needed not in self.config.scopes:
            provided = ",".join(sorted(self.config.scopes))
            raise ApiError("missing_scope", needed=needed, provided=provided)
        oldest = float(args.get("oldest") or 0)
        limit = int(args.get("limit") or 100)
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        found = sorted(
            (
                m
                for m in self.store.messages[channel.id].values()
                if not m.deleted and m.thread_ts in (None, m.ts) and float(m.ts) > oldest
            ),
            key=lambda m: float(m.ts),
            reverse=True,
        )
        return {
            "ok": True,
            "messages": [m.to_api(with_metadata) for m in found[:limit]],
            "has_more": len(found) > limit,
            "response_metadata": {"next_cursor": ""},
        }

    @staticmethod
    def _metadata(raw: Any) -> dict[str, Any] | None:
        """chat.postMessage's ``metadata``: an object or JSON with event_type and event_payload."""
        if raw in (None, ""):
            return None
        try:
            metadata = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            raise ApiError("invalid_metadata_format") from None
        if (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("event_type"), str)
            or not isinstance(metadata.get("event_payload"), dict)
        ):
            raise ApiError("invalid_metadata_schema")
        return {"event_type": metadata["event_type"], "event_payload": metadata["event_payload"]}

    # messages

    def content(self, args: dict[str, Any], current: Message | None = None):
        """(text, blocks) after the no_text, msg_too_long and Block Kit checks."""
        text = args.get("text", args.get("markdown_text"))
        text = current.text if text is None and current else str(text or "")
        blocks = current.blocks if current and "blocks" not in args else []
        if args.get("blocks") is not None:
            blocks = self._blocks(args["blocks"])
        if not text and not blocks and not args.get("attachments"):
            raise ApiError("no_text")
        if len(text) > blockkit.MAX_MESSAGE_TEXT:
            raise ApiError("msg_too_long")
        return text, self.store.with_block_ids(blocks)

    @staticmethod
    def _blocks(raw: Any) -> list[dict[str, Any]]:
        try:
            blocks = blockkit.parse_blocks(raw)
        except blockkit.BlocksFormatError as exc:
            raise ApiError("invalid_blocks_format") from exc
        errors = blockkit.validate_blocks(blocks)
        if errors:
            raise BodyError(blockkit.error_body(errors))
        return blocks

    def bot_message(self, channel: str, text: str, blocks, **extra: Any) -> Message:
        c = self.config
        return Message(
            channel=channel,
            ts=self.store.next_ts(),
            text=text,
            blocks=blocks,
            user=c.bot_user_id,
            bot_id=c.bot_id,
            app_id=c.app_id,
            team=c.team_id,
            username=c.bot_user_name,
            **extra,
        )

    def post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._writable(args.get("channel"))
        text, blocks = self.content(args)
        thread_ts = args.get("thread_ts") or None
        if thread_ts is not None:
            # Slack's reply for an unknown parent was not verified; the stand-in refuses it.
            thread_ts = self.store.thread_root(channel.id, str(thread_ts))
            if thread_ts is None:
                raise ApiError("thread_not_found")
        metadata = self._metadata(args.get("metadata"))
        message = self.store.put(
            self.bot_message(channel.id, text, blocks, thread_ts=thread_ts, metadata=metadata)
        )
        return {"ok": True, "channel": channel.id, "ts": message.ts, "message": message.to_api()}

    def _own_message(self, args: dict[str, Any], refusal: str) -> Message:
        channel = self._visible(args.get("channel"))
        ts = str(args.get("ts") or "")
        if (channel.id, ts) in self.store.ephemeral:
            raise ApiError(refusal)
        message = self.store.get(channel.id, ts)
        if message is None:
            raise ApiError("message_not_found")
        if message.user != self.config.bot_user_id or message.bot_id != self.config.bot_id:
            raise ApiError(refusal)
        return message

    def update(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._own_message(args, "cant_update_message")
        text, blocks = self.content(args, current=message)
        message = self.store.revise(
            message, text=text, blocks=blocks, edited_ts=self.store.next_ts()
        )
        return {
            "ok": True,
            "channel": message.channel,
            "ts": message.ts,
            "text": message.text,
            "message": message.to_api(),
        }

    def delete(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._own_message(args, "cant_delete_message")
        self.store.revise(message, deleted=True)
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._writable(args.get("channel"))
        user = str(args.get("user") or "")
        if user not in channel.members:
            raise ApiError("user_not_in_channel")
        text, blocks = self.content(args)
        message = self.bot_message(
            channel.id, text, blocks, ephemeral_to=user, thread_ts=args.get("thread_ts")
        )
        self.store.put(message)
        return {"ok": True, "message_ts": message.ts}

    def reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible(args.get("channel"))
        message = self.store.get(channel.id, str(args.get("timestamp") or ""))
        name = str(args.get("name") or "")
        if message is None or message.is_ephemeral:
            raise ApiError("message_not_found")
        if name in message.reactions:
            raise ApiError("already_reacted")
        self.store.revise(message, reactions=(*message.reactions, name))
        return {"ok": True}

    # modals

    def _view_arg(self, args: dict[str, Any]) -> dict[str, Any]:
        raw = args.get("view")
        try:
            view = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            view = None
        errors = blockkit.validate_view(view)
        if errors:
            messages = ["[ERROR] " + e for e in errors]
            raise ApiError("invalid_arguments", response_metadata={"messages": messages})
        return view

    def _store_view(self, view: dict[str, Any], user: str, view_id: str, root: str) -> View:
        c = self.config
        body = {
            "id": view_id,
            "team_id": c.team_id,
            "type": view["type"],
            "blocks": self.store.with_block_ids(view["blocks"]),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{time.time():.6f}.{random_id(length=8)}",
            "title": view.get("title"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": None,
            "root_view_id": root,
            "app_id": c.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": c.team_id,
            "bot_id": c.bot_id,
        }
        record = View(id=view_id, user=user, root_view_id=root, hash=body["hash"], view=body)
        self.store.views[view_id] = record
        return record

    def views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._view_arg(args)
        error, trigger = self.store.take_trigger(args.get("trigger_id"))
        if error:
            raise ApiError(error)
        view_id = random_id("V", 10, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return {"ok": True, "view": self._store_view(view, trigger.user, view_id, view_id).view}

    def views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._view_arg(args)
        error, trigger = self.store.take_trigger(args.get("trigger_id"))
        if error:
            raise ApiError(error)
        open_views = [v for v in self.store.views.values() if v.user == trigger.user]
        if not open_views or open_views[-1].closed:
            raise ApiError("not_found")
        view_id = random_id("V", 10, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        record = self._store_view(view, trigger.user, view_id, open_views[-1].root_view_id)
        record.view["previous_view_id"] = open_views[-1].id
        return {"ok": True, "view": record.view}

    def views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._view_arg(args)
        external = args.get("external_id")
        found = [
            v
            for v in self.store.views.values()
            if v.id == args.get("view_id") or (external and v.view["external_id"] == external)
        ]
        if not found:
            raise ApiError("not_found")
        old = found[-1]
        if args.get("hash") and args["hash"] != old.hash:
            raise ApiError("hash_conflict")
        return {"ok": True, "view": self._store_view(view, old.user, old.id, old.root_view_id).view}
