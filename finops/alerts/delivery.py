"""Deliver claimed messages, respecting what each channel answers (no warehouse lock held).

- Channels are served in turn, each at most one message per ``per_channel_interval_s``
  (Slack allows about one per second per channel); within a channel, and so within a
  budget's conversation, messages go in order: a reply waits for its parent, and once a
  message of a conversation fails the later ones wait for the next run.
- ``Retry-After`` (429) is waited out within the run, up to ``max_wait_s`` in all; what is
  left then is given back for the next run. Neither counts as an attempt.
- 5xx, timeouts and network errors are retried ``retries`` times with doubling backoff,
  then count as one attempt (dead after ``max_attempts``). A timeout may hide a message
  the channel took: before it is sent again it is looked up by its alert key.
- An auth failure stops that transport for the run after the first (Slack: one
  ``auth.test`` before its first message); nothing is counted.
- A channel error (Slack ``channel_not_found``, ``not_in_channel``, …) dead-letters the
  message at once, naming the channel, and every other message queued for that channel.

Every outcome is written to the journal as it happens (``finops.alerts.journal``).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from finops.alerts.channels import (
    AuthFailed,
    ChannelFailed,
    Message,
    Problem,
    RetryAfter,
    Sent,
    Transient,
    Transport,
)
from finops.alerts.journal import Journal
from finops.alerts.outbox import parent_ref
from finops.settings import SlackSettings

Queue = tuple[str, str]  # (transport, channel)


@dataclass
class Report:
    sent: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # kept for the next run
    dead: list[tuple[str, str]] = field(default_factory=list)
    deferred: list[tuple[str, str]] = field(default_factory=list)  # not tried, not counted
    stopped: dict[str, str] = field(default_factory=dict)  # transport -> why
    waited_s: float = 0.0


class Delivery:
    def __init__(self, transports: dict[str, Transport], slack: SlackSettings,
                 journal: Journal, run: str, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.transports, self.slack, self.journal, self.run = transports, slack, journal, run
        self.clock, self.sleep = clock, sleep
        self.report = Report()
        self.queues: dict[Queue, deque[Message]] = {}
        self.ready: dict[Queue, float] = {}
        self.checked: set[str] = set()
        self.threads: dict[str, tuple[str, str | None]] = {}  # conversation -> (ref, channel)
        self.blocked: set[str] = set()  # conversations that wait for the next run
        self.tries: dict[str, int] = {}

    def run_all(self, messages: list[Message]) -> Report:
        order = {m.key: i for i, m in enumerate(messages)}
        for message in messages:
            self.queues.setdefault((message.transport, message.channel), deque()).append(message)
        while any(self.queues.values()):
            # the channel that may send soonest; among those ready, the oldest message first
            queue = min((q for q, items in self.queues.items() if items),
                        key=lambda q: (max(self.ready.get(q, 0.0) - self.clock(), 0.0),
                                       order[self.queues[q][0].key]))
            self._wait_for(queue)
            self._step(queue)
        return self.report

    def _wait_for(self, queue: Queue) -> None:
        delay = self.ready.get(queue, 0.0) - self.clock()
        if delay > 0:
            self.sleep(delay)

    def _step(self, queue: Queue) -> None:
        message = self.queues[queue][0]
        done = self._deliver(queue, message)
        if done and self.queues[queue] and self.queues[queue][0] is message:
            self.queues[queue].popleft()

    # -- one message ---------------------------------------------------------------------
    def _deliver(self, queue: Queue, message: Message) -> bool:
        """True when ``message`` is finished with for this run; False to try it again."""
        if message.transport in self.report.stopped:
            return self._defer(message, self.report.stopped[message.transport])
        if message.conversation in self.blocked:
            return self._defer(message, "an earlier message of its conversation is not "
                                        "delivered yet")
        threaded = self._threaded(message)
        if threaded is None:
            return True
        message = threaded
        unchecked = self._unchecked(queue, message)
        if unchecked is not None:
            return unchecked
        try:
            sent = self._send(message)
        except Problem as problem:
            return self._failed(queue, message, problem)
        finally:
            self._pace(queue)
        self._record_sent(message, sent)
        return True

    def _threaded(self, message: Message) -> Message | None:
        if message.op != "reply" or message.thread:
            return message
        known = self.threads.get(str(message.conversation))
        if known is None:
            self.blocked.add(str(message.conversation))
            self._defer(message, "its conversation's first message is not delivered yet")
            return None
        return replace(message, thread=known[0], channel_id=message.channel_id or known[1])

    def _unchecked(self, queue: Queue, message: Message) -> bool | None:
        """None once the transport's credentials are checked (once per run); else whether
        ``message`` is finished with: a failure stops the transport for the run, counting no
        attempt, and a 429 is waited out."""
        if message.transport in self.checked:
            return None
        try:
            self.transports[message.transport].check()
        except RetryAfter as problem:
            return self._retry_after(queue, message, problem)
        except Problem as problem:
            self.report.stopped[message.transport] = str(problem)
            return self._defer(message, str(problem))
        self.checked.add(message.transport)
        return None

    def _send(self, message: Message) -> Sent:
        transport = self.transports[message.transport]
        if message.uncertain:
            found = transport.find(message)
            if found is not None:
                return found
        if message.op == "update":
            return transport.update(message)
        return transport.send(message)

    def _pace(self, queue: Queue) -> None:
        earliest = self.clock() + self.slack.per_channel_interval_s
        self.ready[queue] = max(self.ready.get(queue, 0.0), earliest)

    # -- outcomes --------------------------------------------------------------------------
    def _record_sent(self, message: Message, sent: Sent) -> None:
        entry: dict[str, object] = {
            "run": self.run, "key": message.key, "op": message.op, "outcome": "sent",
                 "ref": sent.ref, "channel_id": sent.channel_id,
                 "conversation": message.conversation}
        if message.op == "update":
            entry["version"] = int(message.key.rsplit(":", 1)[1])
            self.report.updated.append(message.key)
        else:
            self.report.sent.append(message.key)
        if message.op == "post" and message.conversation:
            ref = parent_ref(message.transport, message.key, sent.ref)
            entry["thread_ref"] = ref
            if ref:
                self.threads[message.conversation] = (ref, sent.channel_id)
        self.journal.write(entry)

    def _failed(self, queue: Queue, message: Message, problem: Problem) -> bool:
        if isinstance(problem, RetryAfter):
            return self._retry_after(queue, message, problem)
        if isinstance(problem, Transient):
            return self._transient(queue, message, problem)
        if isinstance(problem, AuthFailed):
            self.report.stopped[message.transport] = str(problem)
            return self._defer(message, str(problem))
        self._dead(message, str(problem))
        if isinstance(problem, ChannelFailed):
            for other in list(self.queues[queue])[1:]:
                self._dead(other, f"{problem} (an earlier message to {message.channel} failed "
                                  "the same way)")
            self.queues[queue] = deque([message])
        return True

    def _retry_after(self, queue: Queue, message: Message, problem: RetryAfter) -> bool:
        if self.report.waited_s + problem.seconds > self.slack.max_wait_s:
            for other in list(self.queues[queue]):
                self._defer(other, f"{message.channel} asked to wait {problem.seconds:g}s "
                                   f"more ({problem}); left for the next run")
            self.queues[queue] = deque([message])
            return True
        self.report.waited_s += problem.seconds
        self.ready[queue] = self.clock() + problem.seconds
        return False

    def _transient(self, queue: Queue, message: Message, problem: Transient) -> bool:
        tries = self.tries.get(message.key, 0) + 1
        self.tries[message.key] = tries
        if problem.uncertain:  # look it up before it is sent again
            self._mark_uncertain(queue, message)
        backoff = self.slack.backoff_s * 2 ** (tries - 1)
        if tries <= self.slack.retries and self.report.waited_s + backoff <= self.slack.max_wait_s:
            self.report.waited_s += backoff
            self.ready[queue] = self.clock() + backoff
            return False
        self._journal(message, "failed", str(problem))
        if message.attempts + 1 >= self.slack.max_attempts and message.op != "update":
            self.report.dead.append((message.key, f"{problem} (attempt {message.attempts + 1}"
                                                  f" of {self.slack.max_attempts})"))
        elif message.op != "update":
            self.report.failed.append((message.key, str(problem)))
        self._block(message)
        return True

    def _mark_uncertain(self, queue: Queue, message: Message) -> None:
        items = self.queues[queue]
        if items and items[0].key == message.key:
            items[0] = replace(items[0], uncertain=True)

    def _dead(self, message: Message, error: str) -> None:
        self._journal(message, "dead", error)
        if message.op != "update":
            self.report.dead.append((message.key, error))
        self._block(message)

    def _defer(self, message: Message, why: str) -> bool:
        if message.op != "update":
            self.report.deferred.append((message.key, why))
        self._block(message)
        return True

    def _block(self, message: Message) -> None:
        if message.conversation and message.op != "update":
            self.blocked.add(message.conversation)

    def _journal(self, message: Message, outcome: str, error: str) -> None:
        entry: dict[str, object] = {
            "run": self.run, "key": message.key, "op": message.op, "outcome": outcome,
                 "error": error, "conversation": message.conversation}
        if message.op == "update":
            entry["version"] = int(message.key.rsplit(":", 1)[1])
        self.journal.write(entry)
