"""The scenario: its file format (`settings`), the frozen model (`model`), the waste model
(`waste`) and the only door in (`load.load_scenario`)."""
