"""What the bot answers, by feature: a handler parses a command or card action, calls one use case, renders.

`routes.py` is the table from commands and card verbs to handlers; `conversation.py` is what `bot/teams` calls.
Nothing here knows storage or the Bot Framework.
"""
