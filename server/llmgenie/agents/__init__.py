"""The agent crew: roles, tools, knowledge and crews over CrewAI (imported lazily).

Importing this package is cheap; CrewAI (several seconds to import) loads only when a crew
actually runs. The entry point is `llmgenie.agents.crews.execute_crew`.
"""
