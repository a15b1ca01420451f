"""The agent: persona, tools, history and the channel-independent turn loop."""
