from bot.jira_sync.rules import missing_transitions


def test_a_transition_is_known_by_its_name_or_its_target_status_ignoring_case():
    transitions = {"acknowledged": "start progress", "resolved": "Done", "triggered": "Investigating"}
    workflow = ["To Do", "In Progress", "Done", "Start Progress"]
    assert missing_transitions(transitions, workflow) == [("triggered", "Investigating")]
    assert missing_transitions({}, workflow) == []
