"""Operations tests reuse the channel, agent and mail fixtures (loopback fakes)."""

from tests.channels.conftest import (  # noqa: F401
    agent_user,
    api,
    channels_env,
    fake_ai,
    telegram_api,
    whatsapp_api,
)
from tests.core.mail.conftest import smtp  # noqa: F401
