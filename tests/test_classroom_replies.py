"""Replies of the actors the model plays: the request is read from the message's words, the
answer weighed with the actor's own factor utilities."""

from __future__ import annotations

from classroom.helpers import new_session

from sim.classroom import replies


def test_a_request_is_read_from_the_names_and_descriptions_of_the_actions():
    game = new_session(":memory:").game
    assert replies.requested(game, "russia", "Can you send us arms?") == (
        "main",
        "arms_transfers",
    )
    assert replies.requested(game, "russia", "Share intelligence please") == (
        "main",
        "intelligence_sharing",
    )
    assert replies.requested(game, "china", "Keep buying our crude") == (
        "oil_purchases",
        "maintain_purchases",
    )
    assert replies.requested(game, "russia", "Hello there") is None


def test_the_answer_follows_the_actors_utilities():
    # The answers of the model files' priors (the calibrated weights may answer otherwise).
    game = new_session(":memory:", "calibration=prior").game
    yes = replies.reply(game, "china", "iran", "Keep buying our crude")
    assert yes.startswith("China: yes, we are ready to keep buying Iranian crude")
    no = replies.reply(game, "russia", "iran", "Send us arms")
    assert no.startswith("Russia: no, we will not transfer weapons systems")
    assert "war in Ukraine" in no
    general = replies.reply(game, "russia", "iran", "Hello there")
    assert general.startswith("Russia has read your message. For now we mean to")
    # Without the weight of the war in Ukraine, Moscow no longer gives it as a reason.
    free = new_session(":memory:", "actors.russia.weights.ukraine_commitment=0").game
    assert "war in Ukraine" not in replies.reply(free, "russia", "iran", "Send us arms")
