"""The interview graph: how the nodes of `interview.nodes` are wired.

    select_question → ask → await_answer, then by the candidate's action:
      answer → grade → decide → follow_up → await_answer      (probe a missed key point)
                              → finish_question → select_question
      hint → hint → await_answer;  repeat → repeat → await_answer
      skip → skip → select_question;  quit → wrap_up
    select_question → wrap_up once the interview has its questions or the pool is empty.

Everything but `await_answer` runs once per step, and with durability="sync" each step is on
disk before the next begins.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph

from interviewer.interview import nodes
from interviewer.interview.context import InterviewContext
from interviewer.interview.nodes import MAX_ANSWER_CHARS, Deps
from interviewer.interview.state import InterviewState

__all__ = ["INTERRUPT", "MAX_ANSWER_CHARS", "RESUME", "Deps", "build_graph"]

# LangGraph's channels for an interrupt and the value it is resumed with (private there)
INTERRUPT, RESUME = "__interrupt__", "__resume__"


def build_graph(deps: Deps, checkpointer: BaseCheckpointSaver[Any] | None = None) -> Any:
    def bound(node: Callable[..., dict[str, Any]]) -> Any:
        return partial(node, deps=deps)

    graph = StateGraph(InterviewState, context_schema=InterviewContext)
    graph.add_node("select_question", bound(nodes.select))
    graph.add_node("ask", bound(nodes.ask))
    graph.add_node("await_answer", nodes.await_answer)
    graph.add_node("grade", bound(nodes.grade))
    graph.add_node("decide", bound(nodes.decide))
    graph.add_node("follow_up", bound(nodes.follow_up))
    graph.add_node("hint", bound(nodes.hint))
    graph.add_node("repeat", nodes.repeat)
    graph.add_node("skip", bound(nodes.skip))
    graph.add_node("finish_question", bound(nodes.finish_question))
    graph.add_node("wrap_up", bound(nodes.wrap_up))
    graph.add_edge(START, "select_question")
    graph.add_conditional_edges("select_question", nodes.after_select)
    graph.add_edge("ask", "await_answer")
    graph.add_conditional_edges("await_answer", nodes.after_answer)
    graph.add_edge("grade", "decide")
    graph.add_conditional_edges("decide", nodes.after_decide)
    graph.add_edge("follow_up", "await_answer")
    graph.add_edge("hint", "await_answer")
    graph.add_edge("repeat", "await_answer")
    graph.add_edge("skip", "select_question")
    graph.add_edge("finish_question", "select_question")
    graph.add_edge("wrap_up", END)
    return graph.compile(checkpointer=checkpointer)
