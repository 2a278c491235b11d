"""The paths of /api/v1: what each call takes and answers, in prose."""

from __future__ import annotations

from typing import Any

from ..models import EventStatus
from ..rules import text as validation  # the limits the hand-written schemas name
from ..rules.enums import ErrorCode
from .operation import (
    AUTHOR_OR_STAFF,
    BODY,
    CODE_PARAM,
    COMMENT_ID,
    EVENT_FIELD_ERRORS,
    PARTICIPANT_WRITE,
    POST_ERRORS,
    QUESTION_ID,
    QUESTION_STATE_ERRORS,
    STAFF_ERRORS,
    STAFF_READ,
    STAFF_WRITE,
    TEXT_ERRORS,
    finish,
    json_body,
    operation,
)
from .schema import enum, obj, ok, ref, string, text

# ---------------------------------------------------------------------------
# Paths

QUESTION_EXAMPLE = {
    "id": 12,
    "body": "Who audits the sensor data?",
    "topic": "privacy",
    "votes": 3,
    "comments": 1,
    "status": "visible",
    "seeded": False,
    "author": "Ana",
    "created_at": "2016-12-08T15:04:05.123Z",
    "highlighted": False,
    "pinned": False,
    "edited": False,
    "mine": True,
    "voted": False,
}
COMMENT_EXAMPLE = {
    "id": 7,
    "question_id": 12,
    "body": "And who audits the auditors?",
    "author": None,
    "created_at": "2016-12-08T15:06:00.000Z",
    "mine": True,
}


def paths() -> dict[str, Any]:
    events = {
        "/events": {
            "get": operation(
                "listEvents",
                "The events the logged-in staff member can moderate",
                tag="staff",
                security=STAFF_READ,
                description="All events for organisers; the appointed events for moderators.",
                responses={"200": ok("The events, newest first.", ref("EventList"))},
                errors={401: [ErrorCode.LOGIN_REQUIRED]},
            ),
            "post": operation(
                "createEvent",
                "Create an event (organisers)",
                tag="staff",
                security=STAFF_WRITE,
                description="A new event is `live` and in `post` moderation unless told "
                "otherwise. The body is checked before the login.",
                body=json_body(
                    ref("NewEvent"),
                    {
                        "code": "smartcities-2017",
                        "title": "Smart Cities, one year on",
                        "topics": ["Consent", "Privacy"],
                    },
                ),
                responses={"201": ok("The created event.", ref("Event"))},
                errors={
                    400: [BODY, ErrorCode.INVALID_CODE, *EVENT_FIELD_ERRORS],
                    **STAFF_ERRORS,
                    409: [ErrorCode.CODE_TAKEN],
                },
            ),
        },
        "/events/seed": {
            "post": operation(
                "seedEvent",
                "Load a seed file (organisers); idempotent",
                tag="staff",
                security=STAFF_WRITE,
                description="The seed file's TOML (docs/seed-format.md), as the JSON "
                '`{"toml": "..."}` or as the raw request body (any non-JSON '
                "content type, with `?status=` for the status). Creates or updates the "
                "event; adds only the questions it does not have yet. A reload keeps the "
                "event's status unless `status` is given (then logged publicly, like "
                "closing the event). Every load is in the moderation log (`load_seed`). "
                "`invalid_seed` names the place of each problem in the reader's language.",
                body={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": obj(
                                {
                                    "toml": string(minLength=1),
                                    "status": enum(
                                        EventStatus,
                                        "Set the event's status; a reload otherwise keeps "
                                        "it (the file's status is a new event's).",
                                    ),
                                },
                                required=["toml"],
                                closed=False,
                            ),
                            "example": {"toml": '[event]\ncode = "demo"\ntitle = "Demo"\n'},
                        },
                        "text/plain": {"schema": string(minLength=1)},
                    },
                },
                responses={
                    "200": ok(
                        "The event as loaded, and how many questions were added.", ref("SeedResult")
                    )
                },
                errors={
                    400: [BODY, ErrorCode.EMPTY, ErrorCode.INVALID_SEED, ErrorCode.INVALID_STATUS],
                    **STAFF_ERRORS,
                },
            ),
        },
        "/events/{code}": {
            "get": operation(
                "getEvent",
                "An event with its topics",
                tag="events",
                parameters=[CODE_PARAM],
                description="Draft events are found by staff only.",
                responses={"200": ok("The event.", ref("Event"))},
                errors={404: [ErrorCode.EVENT_NOT_FOUND]},
            ),
            "patch": operation(
                "updateEvent",
                "Change an event (its moderators, or organisers)",
                tag="staff",
                security=STAFF_WRITE,
                parameters=[CODE_PARAM],
                description="A moderator of the event may change `status` and `moderation` "
                "(with a `reason`, logged); organisers may change every field. "
                "`topics` replaces the topic list.",
                body=json_body(
                    ref("EventChanges"), {"status": "closed", "reason": "The session is over."}
                ),
                responses={"200": ok("The changed event.", ref("Event"))},
                errors={
                    400: [BODY, *EVENT_FIELD_ERRORS],
                    **STAFF_ERRORS,
                    404: [ErrorCode.EVENT_NOT_FOUND],
                },
            ),
        },
        "/events/{code}/questions": {
            "get": operation(
                "listQuestions",
                "The questions the caller may see, ranked",
                tag="questions",
                parameters=[
                    CODE_PARAM,
                    {
                        "name": "sort",
                        "in": "query",
                        "required": False,
                        "description": "`top`: pinned first, then most votes, ties oldest "
                        "first (then lowest id). `new`: newest first.",
                        "schema": {**enum(("top", "new")), "default": "top"},
                    },
                    {
                        "name": "topic",
                        "in": "query",
                        "required": False,
                        "description": "Only the questions of this topic slug (empty: all).",
                        "schema": string(64),
                    },
                ],
                description="Participants see `visible` and `answered` questions and their "
                "own `pending` ones; staff see every question, as StaffQuestion.",
                responses={
                    "200": ok(
                        "The questions.", ref("QuestionList"), {"questions": [QUESTION_EXAMPLE]}
                    )
                },
                errors={
                    400: [ErrorCode.INVALID_SORT],
                    404: [ErrorCode.EVENT_NOT_FOUND, ErrorCode.UNKNOWN_TOPIC],
                },
            ),
            "post": operation(
                "askQuestion",
                "Ask a question",
                tag="questions",
                security=PARTICIPANT_WRITE,
                parameters=[CODE_PARAM],
                description="The new question is `visible`, or `pending` when the event is in "
                "pre-moderation (unless a moderator asks it). A repeated "
                "`client_id` answers 200 with the stored question, even once the "
                "event is closed.",
                body=json_body(
                    ref("NewQuestion"),
                    {
                        "body": "Who audits the sensor data?",
                        "topic": "privacy",
                        "author": "Ana",
                        "quote": "named",
                        "client_id": "phone-3f2a-q-1",
                    },
                ),
                responses={
                    "201": ok("Created.", ref("Question"), QUESTION_EXAMPLE),
                    "200": ok(
                        "Already stored under this `client_id`: the stored question.",
                        ref("Question"),
                    ),
                },
                errors={
                    400: [BODY, *POST_ERRORS, ErrorCode.UNKNOWN_TOPIC],
                    403: [ErrorCode.MUTED],
                    404: [ErrorCode.EVENT_NOT_FOUND],
                    409: [ErrorCode.EVENT_CLOSED],
                    429: [ErrorCode.RATE_LIMITED],
                },
            ),
        },
        "/events/{code}/similar": {
            "get": operation(
                "similarQuestions",
                "Questions that say the same as a text being typed",
                tag="questions",
                parameters=[
                    CODE_PARAM,
                    {
                        "name": "q",
                        "in": "query",
                        "required": True,
                        "description": "The text to match, in any of English, Spanish and "
                        "Portuguese. Shorter than 12 characters: no suggestion.",
                        "schema": text(validation.QUESTION_MAX),
                        "example": "¿De dónde vienen los datos de la ciudad inteligente?",
                    },
                ],
                description="Up to three `visible` or `answered` questions of the event "
                "that say the same as `q`, best first, as Question with the caller's "
                "`mine` and `voted`; an empty list when nothing is alike. Pending and "
                "hidden questions are never suggested, to anyone. Matching runs on the "
                "server: no text is sent elsewhere. Limited per participant "
                "(`RATELIMIT_SIMILAR`, 60 a minute by default).",
                responses={
                    "200": ok(
                        "The questions alike, best first (at most three).",
                        ref("SimilarQuestions"),
                        {"questions": [QUESTION_EXAMPLE]},
                    )
                },
                errors={
                    400: TEXT_ERRORS,
                    404: [ErrorCode.EVENT_NOT_FOUND],
                    429: [ErrorCode.RATE_LIMITED],
                },
            ),
        },
        "/events/{code}/me": {
            "delete": operation(
                "forgetMe",
                "Forget me",
                tag="events",
                security=PARTICIPANT_WRITE,
                parameters=[CODE_PARAM],
                description="Erases the caller's comments, and their questions nobody voted "
                "on or commented; anonymises their other questions; keeps their "
                "votes counted but unlinks them. Afterwards the participant "
                "cookie no longer leads to anything in this event. Repeating it "
                "answers zeros.",
                responses={
                    "200": ok(
                        "What was done.",
                        ref("ForgetMeResult"),
                        {
                            "questions_erased": 1,
                            "questions_anonymised": 0,
                            "comments_erased": 2,
                            "votes_unlinked": 5,
                        },
                    )
                },
                errors={404: [ErrorCode.EVENT_NOT_FOUND]},
            ),
        },
        "/events/{code}/moderation": {
            "get": operation(
                "publicModeration",
                "The public side of moderation",
                tag="events",
                parameters=[CODE_PARAM],
                description="The policy, how many questions and comments are hidden, and "
                "the public log entries with their reasons, never hidden text.",
                responses={
                    "200": ok(
                        "The public moderation record.",
                        ref("PublicModeration"),
                        {
                            "policy": "Personal attacks are hidden.",
                            "hidden": {"questions": 1, "comments": 0},
                            "entries": [
                                {
                                    "action": "hide",
                                    "reason": "Personal data",
                                    "reason_code": "personal_data",
                                    "at": "2016-12-08T15:10:00.000Z",
                                }
                            ],
                        },
                    )
                },
                errors={404: [ErrorCode.EVENT_NOT_FOUND]},
            ),
        },
        "/events/{code}/moderation-log": {
            "get": operation(
                "moderationLog",
                "Every moderation action of the event (staff)",
                tag="staff",
                security=STAFF_READ,
                parameters=[CODE_PARAM],
                responses={"200": ok("The log, newest first.", ref("ModerationLog"))},
                errors={**STAFF_ERRORS, 404: [ErrorCode.EVENT_NOT_FOUND]},
            ),
        },
    }
    questions = {
        "/questions/{question_id}": {
            "delete": operation(
                "deleteQuestion",
                "Delete a question (its author, or staff)",
                tag="questions",
                security=AUTHOR_OR_STAFF,
                parameters=[QUESTION_ID],
                description="Deletes it with its votes and thread.",
                responses={"204": {"description": "Deleted."}},
                errors={
                    403: [ErrorCode.NOT_YOURS, ErrorCode.FORBIDDEN],
                    404: [ErrorCode.QUESTION_NOT_FOUND],
                },
            ),
        },
        "/questions/{question_id}/vote": {
            method: operation(
                operation_id,
                summary,
                tag="questions",
                security=PARTICIPANT_WRITE,
                parameters=[QUESTION_ID],
                description="One vote per participant and question; repeating it changes "
                "nothing. A participant may upvote their own question. "
                "Only `visible` and `answered` questions of a `live` event.",
                responses={
                    "200": ok(
                        "The question's vote count and the caller's vote.",
                        ref("VoteResult"),
                        {"id": 12, "votes": 4, "voted": method == "put"},
                    )
                },
                errors={
                    404: [ErrorCode.QUESTION_NOT_FOUND],
                    409: [ErrorCode.EVENT_CLOSED, ErrorCode.NOT_VOTABLE],
                    429: [ErrorCode.RATE_LIMITED],
                },
            )
            for method, operation_id, summary in (
                ("put", "upvote", "Upvote a question"),
                ("delete", "unvote", "Take back an upvote"),
            )
        },
        "/questions/{question_id}/comments": {
            "get": operation(
                "listComments",
                "A question's thread, oldest first",
                tag="comments",
                parameters=[QUESTION_ID],
                description="Hidden comments are listed for staff only, with `hidden`.",
                responses={
                    "200": ok("The comments.", ref("CommentList"), {"comments": [COMMENT_EXAMPLE]})
                },
                errors={404: [ErrorCode.QUESTION_NOT_FOUND]},
            ),
            "post": operation(
                "postComment",
                "Comment on a question",
                tag="comments",
                security=PARTICIPANT_WRITE,
                parameters=[QUESTION_ID],
                description="Only on `visible` and `answered` questions of a `live` event. "
                "A repeated `client_id` answers 200 with the stored comment.",
                body=json_body(
                    ref("NewComment"),
                    {"body": "And who audits the auditors?", "client_id": "phone-3f2a-c-1"},
                ),
                responses={
                    "201": ok("Created.", ref("Comment"), COMMENT_EXAMPLE),
                    "200": ok(
                        "Already stored under this `client_id`: the stored comment.", ref("Comment")
                    ),
                },
                errors={
                    400: [BODY, *POST_ERRORS],
                    403: [ErrorCode.MUTED],
                    404: [ErrorCode.QUESTION_NOT_FOUND],
                    409: [ErrorCode.EVENT_CLOSED, ErrorCode.NOT_COMMENTABLE],
                    429: [ErrorCode.RATE_LIMITED],
                },
            ),
        },
        "/questions/{question_id}/moderate": {
            "post": operation(
                "moderateQuestion",
                "One moderation action on a question (staff)",
                tag="staff",
                security=STAFF_WRITE,
                parameters=[QUESTION_ID],
                description="`approve` a pending question; `hide` / `restore`; `answer`; "
                "`highlight` (un-highlights the others) / `unhighlight`; `pin` / "
                "`unpin`; `edit` with `body` (the original is kept for staff); "
                "`merge` `into` another visible question (distinct votes and the "
                "comments move over, the duplicate is hidden); `mute` / `unmute` "
                "its author. Every action is logged with its reason. An action "
                "that would change nothing (pin a pinned question, edit to the "
                "same text) is `409 no_change` and is not logged. The action "
                "is checked before the login.",
                body=json_body(
                    ref("QuestionModeration"),
                    {"action": "hide", "reason": "Personal data about a speaker."},
                ),
                responses={
                    "200": ok(
                        "The question as staff see it, after the action.", ref("StaffQuestion")
                    )
                },
                errors={
                    400: [
                        BODY,
                        ErrorCode.INVALID_ACTION,
                        *TEXT_ERRORS,
                        ErrorCode.INVALID_ID,
                        ErrorCode.MERGE_INTO_SELF,
                        ErrorCode.INVALID_REASON_CODE,
                    ],
                    **STAFF_ERRORS,
                    404: [ErrorCode.QUESTION_NOT_FOUND],
                    409: QUESTION_STATE_ERRORS,
                },
            ),
        },
    }
    comments = {
        "/comments/{comment_id}": {
            "delete": operation(
                "deleteComment",
                "Delete a comment (its author, or staff)",
                tag="comments",
                security=AUTHOR_OR_STAFF,
                parameters=[COMMENT_ID],
                responses={"204": {"description": "Deleted."}},
                errors={
                    403: [ErrorCode.NOT_YOURS, ErrorCode.FORBIDDEN],
                    404: [ErrorCode.COMMENT_NOT_FOUND, ErrorCode.QUESTION_NOT_FOUND],
                },
            ),
        },
        "/comments/{comment_id}/moderate": {
            "post": operation(
                "moderateComment",
                "Hide or restore a comment, or mute its author (staff)",
                tag="staff",
                security=STAFF_WRITE,
                parameters=[COMMENT_ID],
                body=json_body(
                    ref("CommentModeration"), {"action": "hide", "reason": "Off topic."}
                ),
                responses={
                    "200": ok("The comment after the action, with `hidden`.", ref("StaffComment"))
                },
                errors={
                    400: [
                        BODY,
                        ErrorCode.INVALID_ACTION,
                        ErrorCode.INVALID_TYPE,
                        ErrorCode.CONTROL_CHARACTERS,
                        ErrorCode.TOO_LONG,
                        ErrorCode.INVALID_REASON_CODE,
                    ],
                    **STAFF_ERRORS,
                    404: [ErrorCode.COMMENT_NOT_FOUND, ErrorCode.QUESTION_NOT_FOUND],
                    409: [
                        ErrorCode.ALREADY_HIDDEN,
                        ErrorCode.NOT_HIDDEN,
                        ErrorCode.NO_AUTHOR,
                        ErrorCode.NO_CHANGE,
                    ],
                },
            ),
        },
        "/openapi.json": {
            "get": operation(
                "openapi",
                "This document",
                tag="meta",
                security=[{}],
                responses={"200": ok("The OpenAPI 3.1 document.", {"type": "object"})},
                errors={},
            ),
        },
    }
    raw = {**events, **questions, **comments}
    return {
        path: {method: finish(path, method, spec) for method, spec in item.items()}
        for path, item in raw.items()
    }
