"""User-visible strings for the participant page's JavaScript, translated per request.

The view puts ``js_strings()`` into the page's JSON data block, so the script
never carries English text of its own. Plural pairs come as ``<key>_one`` and
``<key>_other`` with a ``%(count)s`` placeholder that the script fills in after
choosing the form with ``Intl.PluralRules``.
"""

from flask_babel import gettext as _
from flask_babel import ngettext

from .rules.enums import ReasonCode

# ngettext formats its result; passing the placeholder as its own value keeps it.
_COUNT = "%(count)s"


def js_strings() -> dict[str, str]:
    """Return every string participant.js shows or announces, in the current locale."""
    return {
        "connecting": _("Connecting…"),
        "connected": _("Connected"),
        "reconnecting": _("Reconnecting…"),
        "offline": _("Offline"),
        "here_one": ngettext("%(count)s here", "%(count)s here", 1, count=_COUNT),
        "here_other": ngettext("%(count)s here", "%(count)s here", 2, count=_COUNT),
        "new_questions_one": ngettext(
            "%(count)s new question", "%(count)s new questions", 1, count=_COUNT
        ),
        "new_questions_other": ngettext(
            "%(count)s new question", "%(count)s new questions", 2, count=_COUNT
        ),
        "votes_one": ngettext("%(count)s vote", "%(count)s votes", 1, count=_COUNT),
        "votes_other": ngettext("%(count)s vote", "%(count)s votes", 2, count=_COUNT),
        "comments_toggle": _("Comments (%(num)s)"),
        "upvote": _("Upvote"),
        "voted": _("Voted"),
        "delete": _("Delete"),
        "confirm_delete": _("Delete your question? This cannot be undone."),
        "delete_failed": _("The question could not be deleted. Please try again."),
        "anonymous": _("Anonymous"),
        "edited": _("edited"),
        "yours": _("yours"),
        "waiting": _("waiting"),
        "waiting_hint": _("Waiting for the connection; it will be sent automatically."),
        "pending": _("awaiting approval"),
        "answered": _("Answered"),
        "pinned": _("Pinned"),
        "now_discussing": _("Now discussing"),
        "seeded": _("From the organisers"),
        "no_questions": _("No questions yet. Be the first to ask."),
        "no_questions_topic": _("No questions on this topic yet."),
        "loading_comments": _("Loading comments…"),
        "no_comments": _("No comments yet."),
        "comments_failed": _("The comments could not be loaded. Close and open them to try again."),
        "your_comment": _("Your comment"),
        "comment": _("Comment"),
        "sent": _("Sent."),
        "sent_pending": _("Sent. It will appear for everyone once a moderator approves it."),
        "show_it": _("Show it"),
        "show_mine": _("Show my question"),
        "empty_post": _("Please write something first."),
        "name_required": _("To be quoted with your name, please give your name."),
        "send_failed": _("Something went wrong. Please try again."),
        "saved_offline": _(
            "You are offline. Your post is saved and will be sent when the connection returns."
        ),
        "saved_connecting": _("Connecting… your question is saved and will be sent in a moment."),
        "vote_waiting_offline": _(
            "You are offline. Your vote is kept and will be sent when the connection returns."
        ),
        "vote_waiting_connecting": _("Connecting… your vote will be sent in a moment."),
        "closed": _("This event is closed: no new questions, votes or comments."),
        "join_failed": _("This event could not be loaded. Reload the page to try again."),
        "new_tag": _("new"),
        "read_more": _("Read more"),
        "read_less": _("Show less"),
        "answered_group": _("Answered (%(num)s)"),
        "no_open_questions": _("No open questions."),
        # Who a comment is posted as: its own choice, never the question form's.
        "comment_as": _("Posted as %(name)s"),
        "change_identity": _("Change name or quoting"),
        "your_name": _("Your name (optional)"),
        "quoting": _("Quoting in the report"),
        "quote_anonymous": _("Quote without my name"),
        "quote_named": _("Quote with my name"),
        "quote_none": _("Do not quote"),
        "show_in_list": _("Show in the list"),
        # Said once when the questions like the draft change (not on every keystroke).
        "similar_found_one": ngettext(
            "%(count)s similar question below the ask box",
            "%(count)s similar questions below the ask box",
            1,
            count=_COUNT,
        ),
        "similar_found_other": ngettext(
            "%(count)s similar question below the ask box",
            "%(count)s similar questions below the ask box",
            2,
            count=_COUNT,
        ),
        **notice_strings(),
    }


def notice_strings() -> dict[str, str]:
    """What the author of a question is told when a moderator acts on it."""
    return {
        "notice_hidden": _("A moderator hid your question “%(body)s”."),
        "notice_restored": _("Your question “%(body)s” is visible again."),
        "notice_approved": _(
            "A moderator approved your question “%(body)s”: everyone sees it now."
        ),
        "notice_merged": _(
            "A moderator merged your question “%(body)s” into “%(into)s”, which asks the same;"
            " your votes moved there."
        ),
        "notice_answered": _("Your question “%(body)s” was marked answered."),
        "notice_highlighted": _("Your question “%(body)s” is being discussed now."),
        "notice_deleted": _("A moderator deleted your question “%(body)s”."),
        "notice_reason": _("Reason: %(reason)s"),
        "your_question_fallback": _("your question"),
        "another_question": _("another question"),
        "dismiss": _("Dismiss"),
        **{f"reason_{code}": label for code, label in reason_labels().items()},
    }


def reason_labels() -> dict[str, str]:
    """The moderators' common reasons by the code the server stores, in the reader's
    language: the one table the phone, the console and the public log show.

    Literal calls, so that pybabel finds each msgid.
    """
    labels = {
        ReasonCode.OFF_TOPIC: _("Off-topic"),
        ReasonCode.PERSONAL_ATTACK: _("Personal attack"),
        ReasonCode.PERSONAL_DATA: _("Personal data about someone"),
        ReasonCode.SPAM: _("Spam or advertising"),
        ReasonCode.DUPLICATE: _("Duplicate"),
    }
    return {code.value: str(label) for code, label in labels.items()}
