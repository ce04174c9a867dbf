"""The Speaker's state machine with the recording backend (50x faster than speech)."""
from __future__ import annotations

import threading
import time

import pytest

from kiosk.speech import MAX_RATE, MIN_RATE, RecordingBackend, SilentSpeaker, Speaker, SpeakerState

ARTICLE = [
    "Wash your hands often with soap and water for at least twenty seconds each time.",
    "Cover your mouth and nose with a tissue when you cough or sneeze, then throw it away.",
    "Stay home when you are sick, except to get medical care, and rest as much as you can.",
    "Call the clinic if your fever lasts more than three days or you find it hard to breathe.",
]
# ~0.5 s at 50x: long enough to pause or interrupt in the middle of it.
LONG = " ".join(["word"] * 60)


def test_read_speaks_every_sentence_in_order_and_reports_each_as_it_starts(speaker, recorder, heard):
    speaker.read(ARTICLE, "en")
    assert speaker.state is SpeakerState.SPEAKING
    heard.wait_finished()
    assert recorder.texts == ARTICLE
    assert all(u.completed and u.language == "en" for u in recorder.utterances)
    assert heard.events == [("sentence", 0), ("sentence", 1), ("sentence", 2), ("sentence", 3), ("finished",)]
    assert speaker.state is SpeakerState.IDLE
    assert recorder.prepared


def test_callbacks_reach_the_ui_only_through_post(recorder, heard):
    """Nothing is called on the worker thread: with post() holding everything, nothing is heard."""
    held: list = []
    with Speaker(recorder, held.append) as speaker:
        heard.attach(speaker)
        speaker.read(ARTICLE[:2], "en")
        assert recorder.wait_for_utterances(2)
        deadline = time.monotonic() + 5
        while speaker.state is not SpeakerState.IDLE and time.monotonic() < deadline:
            time.sleep(0.01)
        assert heard.events == []  # all of it is waiting in post()
        for callback in held:
            callback()  # now, on the "UI" thread
    assert heard.events == [("sentence", 0), ("sentence", 1), ("finished",)]
    assert not heard.wrong_thread


def test_pause_then_resume_starts_the_paused_sentence_again(speaker, recorder, heard, ui):
    article = ["First.", "Second. " + LONG, "Third.", "Fourth."]
    speaker.read(article, "es")
    assert recorder.wait_for_utterances(2)  # sentence 1 is being heard
    speaker.pause()
    assert speaker.state is SpeakerState.PAUSED
    assert speaker.sentence_index == 1
    time.sleep(0.1)
    assert len(recorder.utterances) == 2  # silent while paused
    assert not recorder.utterances[1].completed  # cut off, not played out
    speaker.resume()
    assert speaker.state is SpeakerState.SPEAKING
    heard.wait_finished()
    assert recorder.texts == [article[0], article[1], article[1], article[2], article[3]]
    assert heard.sentences == [0, 1, 1, 2, 3]
    assert heard.count("finished") == 1


def test_pause_and_resume_in_quick_succession_lose_no_sentence(speaker, recorder, heard):
    article = ["First. " + LONG, "Second.", "Third."]
    speaker.read(article, "en")
    assert recorder.wait_for_utterances(1)
    for _ in range(5):
        speaker.pause()
        speaker.resume()
    heard.wait_finished()
    assert recorder.texts[-3:] == article
    assert recorder.texts[0] == article[0] and set(recorder.texts) == set(article)
    assert heard.sentences[-3:] == [0, 1, 2]


def test_stop_silences_at_once_reports_finished_and_drops_late_highlights(recorder, heard, ui):
    held: list = []
    with Speaker(recorder, held.append) as speaker:
        heard.attach(speaker)
        speaker.read([LONG, LONG], "en")
        assert recorder.wait_for_utterances(1)  # on_sentence(0) is posted, not yet delivered
        speaker.stop()
        assert speaker.state is SpeakerState.IDLE
        assert speaker.sentence_index is None
        time.sleep(0.1)
        for callback in held:
            callback()
        assert heard.events == [("finished",)]  # no highlight after the stop
        assert len(recorder.utterances) == 1 and not recorder.utterances[0].completed


def test_a_new_prompt_interrupts_the_reading_and_the_latest_wins(speaker, recorder, heard):
    speaker.read([LONG, LONG, LONG], "en")
    assert recorder.wait_for_utterances(1)
    speaker.say("Next", "en")
    speaker.say("Back", "en")  # the patient moved on again before "Next" was heard
    heard.wait_finished()
    assert recorder.texts[0] == LONG and not recorder.utterances[0].completed
    assert recorder.texts[-1] == "Back" and recorder.utterances[-1].completed
    assert "Next" not in [u.text for u in recorder.utterances if u.completed]
    assert LONG not in recorder.texts[1:]  # the article does not come back
    assert heard.count("finished") == 1


def test_a_prompt_without_interrupt_waits_its_turn(speaker, recorder, heard):
    speaker.say("Welcome to the clinic. Touch the screen to start.", "en")
    speaker.say("Your turn is next.", "en", interrupt=False)
    heard.wait_finished()
    assert recorder.texts == ["Welcome to the clinic. Touch the screen to start.", "Your turn is next."]
    assert all(u.completed for u in recorder.utterances)
    assert heard.events == [("finished",)]  # prompts are not article sentences


def test_rate_and_volume_are_clamped_and_apply_from_the_next_sentence(speaker, recorder, heard):
    assert speaker.rate == 150
    speaker.rate = 20
    assert speaker.rate == MIN_RATE == 80
    speaker.rate = 1000
    assert speaker.rate == MAX_RATE == 300
    speaker.rate = 120.4
    assert speaker.rate == 120
    speaker.volume = -5
    assert speaker.volume == 0
    speaker.volume = 130
    assert speaker.volume == 100
    speaker.volume = 60
    speaker.read([LONG, "Short one."], "vi")
    assert recorder.wait_for_utterances(1)
    speaker.rate = 200
    heard.wait_finished()
    assert [(u.rate, u.volume, u.language) for u in recorder.utterances] == [(120, 60, "vi"), (200, 60, "vi")]


def test_illegal_calls_are_harmless(speaker, recorder, heard, ui):
    speaker.pause()
    speaker.resume()
    speaker.stop()
    speaker.say("   ", "en")
    assert speaker.state is SpeakerState.IDLE
    speaker.say("Hello", "en")
    speaker.resume()  # not paused: nothing happens
    heard.wait_finished()
    speaker.pause()  # idle again
    time.sleep(0.05)
    ui.pump()
    assert recorder.texts == ["Hello"]
    assert heard.events == [("finished",)]


def test_read_from_a_start_sentence_and_skip_blank_ones(speaker, recorder, heard):
    speaker.read(["One.", "Two.", "  ", "Four."], "en", start=1)
    heard.wait_finished()
    assert recorder.texts == ["Two.", "Four."]
    assert heard.sentences == [1, 3]


@pytest.mark.parametrize("sentences, start", [([], 0), (["One."], 5)])
def test_reading_nothing_still_reports_finished(speaker, recorder, heard, sentences, start):
    speaker.read(sentences, "en", start=start)
    heard.wait_finished()
    assert recorder.texts == []
    assert speaker.state is SpeakerState.IDLE


def test_a_failing_backend_reports_the_error_and_the_speaker_recovers(speaker, recorder, heard):
    message = "the sound device 'plughw:CARD=Headphones' cannot play audio"
    recorder.fail(message)
    speaker.read(ARTICLE, "en")
    heard.wait_finished()
    assert heard.events == [("error", message), ("finished",)]
    assert speaker.state is SpeakerState.IDLE
    recorder.fail(None)
    speaker.say("Hello", "en")
    heard.wait_finished(2)
    assert recorder.texts == ["Hello"]


class CrashingBackend(RecordingBackend):
    def speak(self, utterance, cancellation, on_audio_start):
        if utterance.text == "crash":
            raise RuntimeError("a bug")
        super().speak(utterance, cancellation, on_audio_start)


def test_a_bug_in_the_backend_does_not_kill_the_worker(ui, heard):
    with Speaker(CrashingBackend(speed=50), ui.post) as speaker:
        heard.attach(speaker)
        speaker.say("crash", "en")
        heard.wait_finished()
        assert heard.events[0][0] == "error" and "RuntimeError" in heard.events[0][1]
        speaker.say("Still here", "en")
        heard.wait_finished(2)
        assert speaker.backend.texts == ["Still here"]


def test_close_ends_the_worker_and_nothing_is_heard_after(recorder, heard, ui):
    speaker = Speaker(recorder, ui.post)
    heard.attach(speaker)
    speaker.read([LONG, LONG], "en")
    assert recorder.wait_for_utterances(1)
    speaker.close()
    assert not speaker._thread.is_alive()
    assert recorder.closed and not recorder.utterances[0].completed
    speaker.say("After close", "en")
    speaker.close()  # twice is fine
    time.sleep(0.05)
    ui.pump()
    assert heard.events == [] and recorder.texts == [LONG]


def test_a_direct_post_may_call_back_into_the_speaker(recorder):
    """Callbacks that run at once on the worker thread (a direct post) can command the speaker."""
    done = threading.Event()
    speaker = Speaker(recorder, lambda callback: callback())
    speaker.on_sentence = lambda index: speaker.say("Next", "en") if index == 1 else None
    speaker.on_finished = lambda: (done.set(), speaker.close())  # even close() from the worker
    speaker.read(["One.", "Two.", "Three."], "en")
    assert done.wait(5)
    speaker.close()
    assert recorder.texts == ["One.", "Two.", "Next"]
    assert not speaker._thread.is_alive()


def test_silent_speaker_says_nothing_but_never_leaves_the_ui_waiting(ui, heard):
    silent = SilentSpeaker(ui.post)
    heard.attach(silent)
    silent.read(ARTICLE, "en")
    silent.say("Hello", "en")
    silent.pause()
    silent.resume()
    silent.stop()
    silent.volume = 140
    silent.rate = 10
    ui.pump()
    assert heard.events == [("finished",), ("finished",)]
    assert silent.state is SpeakerState.IDLE and silent.volume == 100 and silent.rate == 80
    silent.close()
    silent.say("After close", "en")
    ui.pump()
    assert heard.count("finished") == 2
