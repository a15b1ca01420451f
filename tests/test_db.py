"""The engines: what a database error carries into logs and tracebacks."""

from __future__ import annotations

import traceback

import pytest
from sqlalchemy.exc import DBAPIError

from vopix.core.agent import history
from vopix.db import session_scope
from vopix.models import Message


@pytest.mark.promise("P06")
def test_database_errors_never_carry_the_values_of_the_statement(make_user) -> None:
    """SQLAlchemy puts a failed statement's parameters in the exception text by default, and
    an unhandled one is logged with its traceback (Reflex, Starlette, the workers): message
    content, token hashes and ciphertexts would land in the logs."""
    user_id, _, _ = make_user()
    secret = "my-bank-pin-is-4321"
    with pytest.raises(DBAPIError) as caught, session_scope() as s:
        s.add(Message(conversation_id=987654, user_id=user_id, role="user", content=secret))
    logged = "".join(traceback.format_exception(caught.value))
    assert "INSERT INTO message" in logged  # the statement is still there to debug with
    assert secret not in logged
    assert history.list_conversations(user_id) == []
