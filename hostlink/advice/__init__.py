"""The advice questionnaire, product shelf and projection both programs apply: the terminal to show, the
host to record (it scores the answers again and never trusts the screen's copy)."""
