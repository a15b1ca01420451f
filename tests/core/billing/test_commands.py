"""Operator commands: `billing plans`, `set-plan`, `comp`, `sync --email`."""

from __future__ import annotations

from tests.core.billing.conftest import subscribe
from vopix.cli import main
from vopix.core import plans


def test_set_plan_changes_limits_for_everyone_on_it_at_once_and_plans_lists_them(make_user, capsys) -> None:
    user_id, _, _ = make_user()
    assert main(["billing", "set-plan", "free", "--messages", "42", "--storage-mb", "50"]) == 0
    assert plans.plan_for(user_id).messages_per_month == 42
    assert plans.plan_for(user_id).storage_bytes == 50 * 1024 * 1024
    assert main(["billing", "set-plan", "free", "--run-wall-seconds", "12", "--max-active-tasks", "3"]) == 0
    assert plans.plan_for(user_id).run_wall_seconds == 12
    assert plans.get_plan("free").max_active_tasks == 3  # type: ignore[union-attr]
    assert main(["billing", "set-plan", "gold", "--messages", "9"]) == 1
    assert "give --name to create it" in capsys.readouterr().err
    assert main(["billing", "set-plan", "gold", "--name", "Gold", "--price-cents", "9900",
                 "--price-id", "price_gold"]) == 0
    assert main(["billing", "set-plan", "free", "--messages", "-1"]) == 1
    capsys.readouterr()
    assert main(["billing", "plans"]) == 0
    out = capsys.readouterr().out
    assert "gold" in out and "price_gold" in out and "billing is off" in out
    free_line = next(line for line in out.splitlines() if line.startswith("free"))
    assert " 42 " in free_line


def test_comp_gives_and_takes_back_a_plan_by_email(make_user, capsys) -> None:
    user_id, email, _ = make_user()
    assert main(["billing", "comp", "--email", email, "--plan", "team"]) == 0
    assert plans.plan_for(user_id).plan_id == "team"
    assert main(["billing", "comp", "--email", email, "--clear"]) == 0
    assert plans.plan_for(user_id).plan_id == "free"
    assert main(["billing", "comp", "--email", "nobody@example.com", "--plan", "team"]) == 1
    assert "no account with the email nobody@example.com" in capsys.readouterr().err


def test_sync_by_email_rereads_one_customer(stripe_fake, make_user, capsys) -> None:
    user_id, email, _ = make_user()
    assert main(["billing", "sync", "--email", email]) == 0
    assert "no Stripe customer yet" in capsys.readouterr().out
    subscribe(stripe_fake, user_id)  # no webhook reaches VOPIX
    assert main(["billing", "sync", "--email", email]) == 0
    assert "subscription active, plan pro (changed)" in capsys.readouterr().out
    assert plans.plan_for(user_id).plan_id == "pro"


def test_sync_without_billing_says_what_is_missing(make_user, settings_env, capsys) -> None:
    settings_env(VOPIX_STRIPE_SECRET_KEY="")
    _, email, _ = make_user()
    assert main(["billing", "sync", "--email", email]) == 1
    assert "set VOPIX_STRIPE_SECRET_KEY" in capsys.readouterr().err
