"""The story pages: the list of stories, one story's timeline with the reason each change is in
it, and the staff's forms to split a change out of a story or merge two stories."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from watcher.store import Store
from watcher.web.core import WebCore

SAVED = {"split": "Change taken out of the story.", "merge": "Stories merged."}


class StoryPages(WebCore):
    """/stories, /stories/{id}, and its split and merge forms."""

    async def stories_list(self, request: Request) -> Response:
        rows = await self.db(Store.stories, 500)
        return await self.page(request, "stories.html", stories=rows)

    async def story(self, request: Request) -> Response:
        story_id = request.path_params["story_id"]
        story = await self.db(Store.story, story_id)
        if story is None:
            raise HTTPException(404, "no such story")
        others = [s for s in await self.db(Store.stories, 500) if s.id != story_id]
        return await self.page(
            request,
            "story.html",
            story=story,
            others=others,
            saved=SAVED.get(request.query_params.get("saved", ""), ""),
        )

    async def story_split(self, request: Request) -> Response:
        data = await self.form(request)
        story_id = request.path_params["story_id"]
        try:
            change_id = int(data.get("change_id", ""))
        except ValueError:
            raise HTTPException(400, "change_id must be a change's number") from None
        story = await self.db(Store.story_of, change_id)
        if story is None or story.id != story_id:
            raise HTTPException(404, "that change is not in this story")
        await self.db(Store.split_change, change_id, self.clock())
        left = await self.db(Store.story, story_id)
        target = f"/stories/{story_id}?saved=split" if left else "/stories"
        return RedirectResponse(target, status_code=303)

    async def story_merge(self, request: Request) -> Response:
        data = await self.form(request)
        story_id = request.path_params["story_id"]
        name = self.reviewer(request, data)
        try:
            other = int(data.get("other", ""))
        except ValueError:
            raise HTTPException(400, "choose the story to merge into this one") from None
        try:
            await self.db(Store.merge_stories, story_id, other, name, self.clock())
        except KeyError:
            raise HTTPException(404, "no such story") from None
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        return RedirectResponse(f"/stories/{story_id}?saved=merge", status_code=303)
