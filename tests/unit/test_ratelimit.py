"""Teams' send limits: per conversation 7/1s, 8/2s, 60/30s; per tenant 50/1s; threads share their channel's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.ratelimit import CONVERSATION_LIMITS, TENANT_LIMITS, Limit, SendLimiter, SlidingWindowLimiter

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
S = timedelta(seconds=1)
MS = timedelta(milliseconds=1)
ZERO = timedelta(0)
CHANNEL = "19:c"
TENANT = "tenant-1"


def send_greedily(limiter: SendLimiter, conversation: str, tenant: str | None, count: int, start: datetime = T0) -> list[datetime]:
    """Send `count` messages as fast as the limiter allows; the instants they went out."""
    now = start
    sent = []
    for _ in range(count):
        now += limiter.wait(conversation, tenant, now)
        assert limiter.wait(conversation, tenant, now) == ZERO
        limiter.record(conversation, tenant, now)
        sent.append(now)
    return sent


def most_in_any_window(moments: list[datetime], per: timedelta) -> int:
    """The most sends in any half-open window (t - per, t]."""
    return max(sum(1 for m in moments if end - per < m <= end) for end in moments)


def test_documented_limits() -> None:
    assert CONVERSATION_LIMITS == (Limit(7, S), Limit(8, 2 * S), Limit(60, 30 * S))
    assert TENANT_LIMITS == (Limit(50, S),)


def test_nothing_sent_means_no_wait() -> None:
    assert SendLimiter().wait(CHANNEL, TENANT, T0) == ZERO


def test_seven_sends_in_a_second_then_the_eighth_waits() -> None:
    limiter = SendLimiter()
    for n in range(7):
        now = T0 + n * 100 * MS
        assert limiter.wait(CHANNEL, TENANT, now) == ZERO, n
        limiter.record(CHANNEL, TENANT, now)
    # The 8th at 0.7s must wait until the first (at 0s) leaves the one-second window.
    assert limiter.wait(CHANNEL, TENANT, T0 + 700 * MS) == 300 * MS
    assert limiter.wait(CHANNEL, TENANT, T0 + 999 * MS) == MS
    assert limiter.wait(CHANNEL, TENANT, T0 + S) == ZERO  # the window is half-open


def test_seven_at_once_then_the_eighth_waits_a_full_second() -> None:
    limiter = SendLimiter()
    for _ in range(7):
        limiter.record(CHANNEL, TENANT, T0)
    assert limiter.wait(CHANNEL, TENANT, T0) == S


def test_eight_per_two_seconds() -> None:
    sent = send_greedily(SendLimiter(), CHANNEL, TENANT, 9)
    assert sent[:7] == [T0] * 7
    assert sent[7] == T0 + S  # the 1s limit
    assert sent[8] == T0 + 2 * S  # the 2s limit: (-1s, 1s] holds 8, so it waits for the first seven to leave


def test_sixty_per_thirty_seconds() -> None:
    sent = send_greedily(SendLimiter(), CHANNEL, TENANT, 61)
    assert sent[59] < T0 + 30 * S  # the first 60 go well inside 30 seconds
    assert sent[60] == T0 + 30 * S  # the 61st waits for the first to leave the 30s window
    assert most_in_any_window(sent, S) == 7
    assert most_in_any_window(sent, 2 * S) == 8
    assert most_in_any_window(sent, 30 * S) == 60


def test_greedy_sending_keeps_every_limit_over_a_long_run() -> None:
    sent = send_greedily(SendLimiter(), CHANNEL, TENANT, 200)
    assert most_in_any_window(sent, S) <= 7
    assert most_in_any_window(sent, 2 * S) <= 8
    assert most_in_any_window(sent, 30 * S) <= 60
    # ...and it does not wait longer than it must: 60 per 30s is the binding limit in the long run.
    assert sent[-1] - sent[0] < 30 * S * (200 / 60)


def test_threads_of_one_channel_share_its_limit() -> None:
    limiter = SendLimiter()
    for n in range(7):
        thread = f"{CHANNEL};messageid={n % 2 + 1}"  # alternate between threads 1 and 2
        assert limiter.wait(thread, TENANT, T0) == ZERO
        limiter.record(thread, TENANT, T0)
    assert limiter.wait(f"{CHANNEL};messageid=1", TENANT, T0) == S
    assert limiter.wait(f"{CHANNEL};messageid=2", TENANT, T0) == S
    assert limiter.wait(f"{CHANNEL};messageid=3", TENANT, T0) == S
    assert limiter.wait(CHANNEL, TENANT, T0) == S  # the channel itself


def test_a_thread_of_another_channel_is_not_held_back() -> None:
    limiter = SendLimiter()
    for _ in range(7):
        limiter.record(f"{CHANNEL};messageid=1", TENANT, T0)
    assert limiter.wait("19:other;messageid=1", TENANT, T0) == ZERO
    assert limiter.wait("19:c2;messageid=1", TENANT, T0) == ZERO  # a prefix of the name is another channel


def test_different_conversations_do_not_interfere() -> None:
    limiter = SendLimiter()
    a, b = "19:a@thread.tacv2", "a:1personal-chat"
    sent_a = send_greedily(limiter, a, TENANT, 8)
    assert sent_a[7] == T0 + S
    # B has its own conversation limit: seven at T0 are fine even though A is saturated.
    for _ in range(7):
        assert limiter.wait(b, TENANT, T0) == ZERO
        limiter.record(b, TENANT, T0)
    assert limiter.wait(b, TENANT, T0) == S


def test_tenant_limit_of_fifty_per_second_across_conversations() -> None:
    limiter = SendLimiter()
    for n in range(50):
        conversation = f"19:room-{n // 5}"  # ten conversations, five each: no conversation limit is hit
        assert limiter.wait(conversation, TENANT, T0) == ZERO, n
        limiter.record(conversation, TENANT, T0)
    assert limiter.wait("19:fresh", TENANT, T0) == S  # the 51st, to a conversation never used
    assert limiter.wait("19:fresh", TENANT, T0 + 400 * MS) == 600 * MS
    assert limiter.wait("19:fresh", TENANT, T0 + S) == ZERO


def test_tenants_do_not_interfere() -> None:
    limiter = SendLimiter()
    for n in range(50):
        limiter.record(f"19:room-{n // 5}", TENANT, T0)
    assert limiter.wait("19:fresh", "tenant-2", T0) == ZERO
    assert limiter.wait("19:fresh", TENANT, T0) == S


def test_old_sends_are_forgotten() -> None:
    limiter = SlidingWindowLimiter(CONVERSATION_LIMITS)
    for n in range(60):
        limiter.record(CHANNEL, T0 + n * 400 * MS)
    assert limiter.wait(CHANNEL, T0 + 24 * S) > ZERO
    assert limiter.wait(CHANNEL, T0 + 24 * S + 30 * S) == ZERO


def test_sliding_window_with_custom_limits() -> None:
    limiter = SlidingWindowLimiter([Limit(2, 10 * S)])
    limiter.record("k", T0)
    limiter.record("k", T0 + 3 * S)
    assert limiter.wait("k", T0 + 4 * S) == 6 * S
    assert limiter.wait("k", T0 + 10 * S) == ZERO
    assert limiter.wait("other", T0 + 4 * S) == ZERO


def test_sends_recorded_over_the_limit_are_waited_out_until_the_window_is_below_it() -> None:
    # Ten sends recorded in one second (say, forced through by another path): the next send waits until only
    # six remain in the window, i.e. until the fourth oldest (at 0.3s) leaves it.
    limiter = SlidingWindowLimiter([Limit(7, S)])
    for n in range(10):
        limiter.record("k", T0 + n * 100 * MS)
    assert limiter.wait("k", T0 + 950 * MS) == 350 * MS
    assert limiter.wait("k", T0 + 1300 * MS) == ZERO
