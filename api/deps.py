"""The request dependencies: the one place that reads `app.state` (FastAPI template style)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from qa.config import Settings
from qa.feedback import FeedbackStore
from qa.pipeline import Pipeline


def get_pipeline(request: Request) -> Pipeline:
    return request.app.state.pipeline


def get_settings(request: Request) -> Settings:
    return request.app.state.pipeline.settings


def get_feedback_store(request: Request) -> FeedbackStore:
    return request.app.state.feedback


PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
FeedbackDep = Annotated[FeedbackStore, Depends(get_feedback_store)]
