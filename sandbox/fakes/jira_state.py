"""Jira fake state: issues, changes with changelog entries, and rendering them as Jira's JSON (mixed into JiraFake)."""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

from sandbox.fakes.base import FakeError, FakeRequest
from sandbox.fakes.jira_jql import JqlContext
from sandbox.fakes.jira_model import (
    CATEGORIES,
    CHANGE_NAMES,
    DEFAULT_ISSUE_TYPES,
    DEFAULT_LINK_TYPES,
    DEFAULT_PRIORITY,
    DEFAULT_SUBTASK_TYPES,
    FIELD_PARSERS,
    PRIORITY_NAMES,
    RESOLUTION_DONE,
    SEVERITY_FIELD,
    SEVERITY_OPTIONS,
    STATUSES,
    TRANSITIONS,
    Comment,
    Invalid,
    Issue,
    Transition,
    adf_to_text,
    jira_time,
    label_op,
    ref_of,
    render_text,
)


class JiraState:
    """Everything the fake knows, and how Jira shows it. Callers hold the fake's lock."""

    lock: threading.RLock

    def _init_state(self, display_name: str, email: str, start_time: float | None) -> None:
        self._clock_offset = 0.0 if start_time is None else start_time - time.time()
        self.projects: dict[str, dict[str, Any]] = {}
        self.issue_types: dict[str, str] = {}
        self.subtask_types: set[str] = set(DEFAULT_SUBTASK_TYPES)
        self.link_types: dict[str, tuple[str, str, str]] = {}  # id -> (name, inward, outward)
        self._issues: dict[str, Issue] = {}
        self._keys: dict[str, str] = {}
        self._links: list[dict[str, str]] = []
        self._users: dict[str, dict[str, str]] = {}
        self._issue_ids = itertools.count(10001)
        self._project_ids = itertools.count(10000)
        self._comment_ids = itertools.count(10000)
        self._history_ids = itertools.count(10100)
        self._link_ids = itertools.count(10200)
        self.bot_account_id = self._user(display_name, email)
        for name in DEFAULT_ISSUE_TYPES:
            self.issue_types[name] = str(10001 + len(self.issue_types))
        for name, inward, outward in DEFAULT_LINK_TYPES:
            self.link_types[str(10000 + len(self.link_types))] = (name, inward, outward)

    _origin: Callable[[], str]  # provided by JiraFake: where `self` links point

    # --- state changes (callers hold the lock) ---------------------------------------------------
    def _new_issue(self, fields: dict[str, Any], author: str) -> Issue:
        errors: dict[str, str] = {}
        project = self._project_by_ref(ref_of(fields.pop("project", None)))
        issuetype = self._issuetype_by_ref(ref_of(fields.pop("issuetype", None)))
        parent_ref = fields.pop("parent", None)
        if project is None:
            errors["project"] = "Specify a valid project ID or key"
        if issuetype is None:
            errors["issuetype"] = "Specify a valid issue type"
        parent = self._parent_of(project, issuetype, parent_ref, errors)
        if not fields.get("summary"):
            errors["summary"] = "You must specify a summary of the issue."
        values, field_errors = self._parse_fields(fields)
        errors.update(field_errors)
        if errors or project is None or issuetype is None:
            raise FakeError(400, body={"errorMessages": [], "errors": errors})
        now = self.now()
        project["counter"] += 1
        key = f"{project['key']}-{project['counter']}"
        issue = Issue(str(next(self._issue_ids)), key, project["key"], issuetype, author, now, now, status_changed=now)
        issue.parent = parent.id if parent is not None else None
        issue.values = {"priority": DEFAULT_PRIORITY, "labels": [], "reporter": author, **values}
        self._issues[issue.id] = issue
        self._keys[issue.key] = issue.id
        return issue

    def _parent_of(
        self, project: dict[str, Any] | None, issuetype: str | None, raw: Any, errors: dict[str, str]
    ) -> Issue | None:
        """A sub-task needs a parent (`fields.parent: {"key"|"id"}`) in its own project that is not a sub-task itself;
        any other issue type takes none. Problems go into `errors` (Jira's 400 shape)."""
        if issuetype is None or project is None:
            return None
        if issuetype not in self.subtask_types:
            if raw is not None:
                errors["parent"] = "Only sub-task issue types can have a parent here."
            return None
        ref = ref_of(raw) if isinstance(raw, dict) else None
        if not ref:
            errors["parent"] = "Issue type is a sub-task but parent issue key or id not specified."
            return None
        parent = self._lookup(ref)
        if parent is None:
            errors["parent"] = f"Could not find issue by id or key: {ref}"
        elif parent.issuetype in self.subtask_types:
            errors["parent"] = "A sub-task cannot be the parent of another sub-task."
        elif parent.project != project["key"]:
            errors["parent"] = "A sub-task must be in the same project as its parent."
        else:
            return parent
        return None

    def _parse_or_400(self, fields: dict[str, Any]) -> dict[str, Any]:
        values, errors = self._parse_fields(fields)
        if errors:
            raise FakeError(400, body={"errorMessages": [], "errors": errors})
        return values

    def _parse_fields(self, fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for field_id, raw in fields.items():
            parser = FIELD_PARSERS.get(field_id)
            if parser is None:
                errors[field_id] = f"Field '{field_id}' cannot be set. It is not on the appropriate screen, or unknown."
                continue
            try:
                values[field_id] = parser(raw)
            except Invalid as error:
                errors[field_id] = str(error)
        return values, errors

    def _update_ops(self, issue: Issue, update: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
        """Apply the `update` verbs (set/add/remove) to copies; return the new values and comments to add."""
        values: dict[str, Any] = {}
        comments: list[Any] = []
        labels = list(issue.values.get("labels") or [])
        for field_id, operations in update.items():
            for operation in operations or []:
                for verb, argument in operation.items():
                    if field_id == "comment" and verb == "add":
                        comments.append((argument or {}).get("body"))
                    elif field_id == "labels" and verb in ("add", "remove", "set"):
                        labels = label_op(labels, verb, argument)
                        values["labels"] = labels
                    elif verb == "set":
                        values.update(self._parse_or_400({field_id: argument}))
                    else:
                        raise FakeError(
                            400, body={"errorMessages": [], "errors": {field_id: f"Unsupported operation {verb}"}}
                        )
        return values, comments

    def _apply(self, issue: Issue, values: dict[str, Any], author: str) -> None:
        items = []
        for field_id, new in values.items():
            old = issue.values.get(field_id)
            if old != new:
                issue.values[field_id] = new
                items.append(self._change_item(field_id, old, new))
        self._record(issue, author, items)

    def _record(self, issue: Issue, author: str, items: list[dict[str, Any]]) -> None:
        if items:
            now = self.now()
            issue.histories.append(
                {"id": str(next(self._history_ids)), "author": author, "created": now, "items": items}
            )
            issue.updated = now

    def _change_item(self, field_id: str, old: Any, new: Any) -> dict[str, Any]:
        custom = field_id.startswith("customfield_")
        item = {"field": CHANGE_NAMES.get(field_id, field_id), "fieldtype": "custom" if custom else "jira"}
        item["fieldId"] = field_id
        with_ids = field_id in ("priority", "assignee", "reporter", SEVERITY_FIELD)
        item.update({"from": old if with_ids else None, "fromString": self._display(field_id, old)})
        item.update({"to": new if with_ids else None, "toString": self._display(field_id, new)})
        return item

    def _display(self, field_id: str, value: Any) -> str | None:
        if value in (None, [], ""):
            return None
        if field_id == "priority":
            return PRIORITY_NAMES[int(value) - 1]
        if field_id == "labels":
            return " ".join(value)
        if field_id in ("assignee", "reporter"):
            return self._users.get(value, {}).get("displayName", value)
        if field_id == SEVERITY_FIELD:
            return SEVERITY_OPTIONS[value]
        return adf_to_text(value) if field_id == "description" else str(value)

    def _available(self, issue: Issue) -> list[Transition]:
        return [t for t in TRANSITIONS if t.to != issue.status and t.only_from in (None, issue.status)]

    def _move(self, issue: Issue, transition: Transition, author: str) -> None:
        old, new = STATUSES[issue.status], STATUSES[transition.to]
        now = self.now()
        items = [{"field": "status", "fieldtype": "jira", "fieldId": "status", "from": old.id, "fromString": old.name}]
        items[0].update({"to": new.id, "toString": new.name})
        resolution = {"field": "resolution", "fieldtype": "jira", "fieldId": "resolution"}
        done_id = RESOLUTION_DONE["id"]
        if new.category == "done" and issue.resolved is None:
            issue.resolved = now
            items.insert(0, {**resolution, "from": None, "fromString": None, "to": done_id, "toString": "Done"})
        elif new.category != "done" and issue.resolved is not None:
            issue.resolved = None
            items.insert(0, {**resolution, "from": done_id, "fromString": "Done", "to": None, "toString": None})
        if old.category != new.category:
            issue.status_changed = now
        issue.status = new.name
        self._record(issue, author, items)

    def _add_comment_to(self, issue: Issue, body: Any, author: str) -> Comment:
        if not adf_to_text(body).strip():
            raise FakeError(400, body={"errorMessages": [], "errors": {"comment": "Comment body can not be empty!"}})
        now = self.now()
        comment = Comment(str(next(self._comment_ids)), author, body, now)
        issue.comments.append(comment)
        issue.updated = now
        return comment

    def _link(self, type_id: str, inward: Issue, outward: Issue, author: str) -> None:
        link_id = str(next(self._link_ids))
        self._links.append({"id": link_id, "type": type_id, "inward": inward.id, "outward": outward.id})
        _, inward_text, outward_text = self.link_types[type_id]
        for issue, other, text in ((inward, outward, inward_text), (outward, inward, outward_text)):
            item = {"field": "Link", "fieldtype": "jira", "from": None, "fromString": None, "to": other.key}
            self._record(issue, author, [{**item, "toString": f"This issue {text} {other.key}"}])

    # --- rendering -------------------------------------------------------------------------------
    def _issue_url(self, issue: Issue, v: str) -> str:
        return f"{self._origin()}/rest/api/{v}/issue/{issue.id}"

    def _issue_json(
        self, issue: Issue, v: str, wanted: Callable[[str], bool] | None = None, expand: set[str] | None = None
    ) -> dict[str, Any]:
        fields = self._issue_fields(issue, v)
        if wanted is not None:
            fields = {name: value for name, value in fields.items() if wanted(name)}
        expandable = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
        result = {"expand": expandable, "id": issue.id, "self": self._issue_url(issue, v), "key": issue.key}
        result["fields"] = fields
        if expand and "changelog" in expand:
            histories = [self._history_json(h) for h in issue.histories]
            result["changelog"] = {
                "startAt": 0,
                "maxResults": len(histories),
                "total": len(histories),
                "histories": histories,
            }
        return result

    def _issue_fields(self, issue: Issue, v: str) -> dict[str, Any]:
        values = issue.values
        comments = [self._comment_json(issue, c, v) for c in issue.comments]
        return {
            "summary": values.get("summary"),
            "description": render_text(values.get("description"), v),
            "issuetype": self._issuetype_json(issue.issuetype, v),
            "priority": self._priority_json(values.get("priority"), v),
            "status": self._status_json(issue.status, v),
            "statuscategorychangedate": jira_time(issue.status_changed),
            "resolution": {"self": f"{self._origin()}/rest/api/{v}/resolution/10000", **RESOLUTION_DONE}
            if issue.resolved
            else None,
            "resolutiondate": jira_time(issue.resolved) if issue.resolved else None,
            "labels": list(values.get("labels") or []),
            "project": self._project_json(self.projects[issue.project], v),
            "created": jira_time(issue.created),
            "updated": jira_time(issue.updated),
            "assignee": self._user_json(values.get("assignee")),
            "reporter": self._user_json(values.get("reporter")),
            "creator": self._user_json(issue.creator),
            "duedate": values.get("duedate"),
            "issuelinks": self._issue_links_json(issue, v),
            "subtasks": [self._brief_json(i, v) for i in self._issues.values() if i.parent == issue.id],
            **({"parent": self._brief_json(self._issues[issue.parent], v)} if issue.parent else {}),
            "comment": {"comments": comments, "maxResults": len(comments), "total": len(comments), "startAt": 0},
            SEVERITY_FIELD: self._option_json(values.get(SEVERITY_FIELD), v),
        }

    def _history_json(self, history: dict[str, Any]) -> dict[str, Any]:
        items = [dict(item) for item in history["items"]]
        author = self._user_json(history["author"])
        return {"id": history["id"], "author": author, "created": jira_time(history["created"]), "items": items}

    def _comment_json(self, issue: Issue, comment: Comment, v: str) -> dict[str, Any]:
        author = self._user_json(comment.author)
        created = jira_time(comment.created)
        return {
            "self": f"{self._issue_url(issue, v)}/comment/{comment.id}",
            "id": comment.id,
            "author": author,
            "body": render_text(comment.body, v),
            "updateAuthor": author,
            "created": created,
            "updated": created,
            "jsdPublic": True,
        }

    def _status_json(self, name: str, v: str) -> dict[str, Any]:
        status = STATUSES[name]
        category_id, category_name, color = CATEGORIES[status.category]
        category = {"self": f"{self._origin()}/rest/api/{v}/statuscategory/{category_id}", "id": category_id}
        category.update({"key": status.category, "colorName": color, "name": category_name})
        base = {"self": f"{self._origin()}/rest/api/{v}/status/{status.id}", "description": ""}
        icon = f"{self._origin()}/images/icons/statuses/generic.png"
        return {**base, "iconUrl": icon, "name": status.name, "id": status.id, "statusCategory": category}

    def _priority_json(self, priority_id: str | None, v: str, full: bool = False) -> dict[str, Any] | None:
        if priority_id is None:
            return None
        name = PRIORITY_NAMES[int(priority_id) - 1]
        result = {"self": f"{self._origin()}/rest/api/{v}/priority/{priority_id}", "name": name, "id": priority_id}
        result["iconUrl"] = f"{self._origin()}/images/icons/priorities/{name.lower()}.svg"
        if full:
            result.update(
                {"statusColor": "#cccccc", "description": f"{name} priority", "isDefault": priority_id == "3"}
            )
        return result

    def _issuetype_json(self, name: str, v: str) -> dict[str, Any]:
        type_id = self.issue_types[name]
        base = {"self": f"{self._origin()}/rest/api/{v}/issuetype/{type_id}", "id": type_id, "description": ""}
        icon = f"{self._origin()}/images/icons/issuetypes/{type_id}.svg"
        subtask = name in self.subtask_types
        return {**base, "iconUrl": icon, "name": name, "subtask": subtask, "hierarchyLevel": -1 if subtask else 0}

    def _project_json(self, project: dict[str, Any], v: str) -> dict[str, Any]:
        base = {"self": f"{self._origin()}/rest/api/{v}/project/{project['id']}", "id": project["id"]}
        avatar = f"{self._origin()}/rest/api/{v}/universal_avatar/view/type/project/avatar/10400"
        names = {"key": project["key"], "name": project["name"], "projectTypeKey": "software"}
        return {**base, **names, "simplified": False, "avatarUrls": {"48x48": avatar}}

    def _transition_json(self, transition: Transition, v: str) -> dict[str, Any]:
        flags = {"hasScreen": False, "isGlobal": transition.only_from is None, "isInitial": False}
        flags.update({"isAvailable": True, "isConditional": False, "isLooped": False})
        return {"id": transition.id, "name": transition.name, "to": self._status_json(transition.to, v), **flags}

    def _link_type_json(self, type_id: str, v: str) -> dict[str, Any]:
        name, inward, outward = self.link_types[type_id]
        url = f"{self._origin()}/rest/api/{v}/issueLinkType/{type_id}"
        return {"id": type_id, "name": name, "inward": inward, "outward": outward, "self": url}

    def _issue_links_json(self, issue: Issue, v: str) -> list[dict[str, Any]]:
        result = []
        for link in self._links:
            if issue.id not in (link["inward"], link["outward"]):
                continue
            other_id, side = (
                (link["outward"], "outwardIssue") if link["inward"] == issue.id else (link["inward"], "inwardIssue")
            )
            brief = self._brief_json(self._issues[other_id], v)
            entry = {"id": link["id"], "self": f"{self._origin()}/rest/api/{v}/issueLink/{link['id']}"}
            result.append({**entry, "type": self._link_type_json(link["type"], v), side: brief})
        return result

    def _brief_json(self, other: Issue, v: str) -> dict[str, Any]:
        """Another issue as Jira shows it inside an issue (links, sub-tasks, parent): key and a few fields."""
        brief_fields = {"summary": other.values.get("summary"), "status": self._status_json(other.status, v)}
        brief_fields.update({"priority": self._priority_json(other.values.get("priority"), v)})
        brief_fields["issuetype"] = self._issuetype_json(other.issuetype, v)
        return {"id": other.id, "key": other.key, "self": self._issue_url(other, v), "fields": brief_fields}

    def _option_json(self, option_id: str | None, v: str) -> dict[str, Any] | None:
        if option_id is None:
            return None
        url = f"{self._origin()}/rest/api/{v}/customFieldOption/{option_id}"
        return {"self": url, "value": SEVERITY_OPTIONS[option_id], "id": option_id}

    def _user_json(self, account_id: str | None) -> dict[str, Any] | None:
        if account_id is None:
            return None
        user = self._users.get(account_id, {"displayName": account_id, "emailAddress": ""})
        avatar = f"https://avatar-management.example/avatar/{account_id}"
        return {
            "self": f"{self._origin()}/rest/api/2/user?accountId={account_id}",
            "accountId": account_id,
            "emailAddress": user["emailAddress"],
            "avatarUrls": {size: avatar for size in ("48x48", "24x24", "16x16", "32x32")},
            "displayName": user["displayName"],
            "active": True,
            "timeZone": "Etc/UTC",
            "accountType": "atlassian",
        }

    # --- search support ----------------------------------------------------------------------
    def _jql_context(self) -> JqlContext:
        known = {
            "project": {str(x).lower() for p in self.projects.values() for x in (p["key"], p["id"], p["name"])},
            "status": {x.lower() for s in STATUSES.values() for x in (s.name, s.id)},
            "priority": {x.lower() for x in PRIORITY_NAMES} | {str(n) for n in range(1, 6)},
            "issuetype": {x.lower() for pair in self.issue_types.items() for x in pair},
            "key": {x.lower() for i in self._issues.values() for x in (i.key, i.id)},
            "statuscategory": {str(x).lower() for key, row in CATEGORIES.items() for x in (key, row[0], row[1])},
        }
        bot = self._users[self.bot_account_id]
        return JqlContext(now=self.now(), current_user=[self.bot_account_id, bot["displayName"]], known=known)

    def _facts(self, issue: Issue) -> dict[str, Any]:
        status, values, project = STATUSES[issue.status], issue.values, self.projects[issue.project]
        category = CATEGORIES[status.category]
        description = adf_to_text(values.get("description"))
        comments = " ".join(adf_to_text(c.body) for c in issue.comments)
        priority = values.get("priority")
        return {
            "project": [project["key"], project["id"], project["name"]],
            "key": [issue.key, issue.id],
            "status": [status.name, status.id],
            "statuscategory": [category[1], status.category, str(category[0])],
            "priority": [PRIORITY_NAMES[int(priority) - 1], priority] if priority else [],
            "issuetype": [issue.issuetype, self.issue_types[issue.issuetype]],
            "labels": list(values.get("labels") or []),
            "resolution": ["Done", RESOLUTION_DONE["id"]] if issue.resolved else [],
            "assignee": self._user_refs(values.get("assignee")),
            "reporter": self._user_refs(values.get("reporter")),
            "creator": self._user_refs(issue.creator),
            "summary": values.get("summary") or "",
            "description": description,
            "comment": comments,
            "text": " ".join((values.get("summary") or "", description, comments)),
            "created": issue.created,
            "updated": issue.updated,
            "resolutiondate": issue.resolved,
        }

    def _sort_value(self, issue: Issue, field_name: str) -> Any:
        if field_name == "key":
            return (issue.project, int(issue.key.rsplit("-", 1)[1]))
        if field_name == "priority":  # DESC puts Highest first, as in Jira
            return -int(issue.values.get("priority") or DEFAULT_PRIORITY)
        simple = {"created": issue.created, "updated": issue.updated, "resolutiondate": issue.resolved or 0.0}
        simple.update({"status": issue.status, "issuetype": issue.issuetype, "project": issue.project})
        return simple.get(field_name, str(issue.values.get(field_name) or "").lower())

    # --- lookups ---------------------------------------------------------------------------------
    def _user(self, display_name: str, email: str | None = None) -> str:
        account_id = hashlib.sha1(display_name.encode()).hexdigest()[:24]
        slug = "".join(ch for ch in display_name.lower() if ch.isalnum()) or "user"
        self._users.setdefault(
            account_id, {"displayName": display_name, "emailAddress": email or f"{slug}@sandbox.example"}
        )
        return account_id

    def _user_refs(self, account_id: str | None) -> list[str]:
        if account_id is None:
            return []
        return [account_id, self._users.get(account_id, {}).get("displayName", account_id)]

    def _project_by_ref(self, ref: str | None) -> dict[str, Any] | None:
        if ref is None:
            return None
        return next((p for p in self.projects.values() if ref.upper() == p["key"] or ref == p["id"]), None)

    def _issuetype_by_ref(self, ref: str | None) -> str | None:
        return next((name for name, type_id in self.issue_types.items() if ref in (name, type_id)), None)

    def _lookup(self, ref: str) -> Issue | None:
        issue_id = ref if ref in self._issues else self._keys.get(ref.upper())
        return self._issues.get(issue_id) if issue_id else None

    def _find(self, ref: str) -> Issue:
        issue = self._lookup(ref)
        if issue is None:
            raise FakeError(404, "Issue does not exist or you do not have permission to see it.")
        return issue

    def _require(self, key: str) -> Issue:
        issue = self._lookup(key)
        if issue is None:
            raise KeyError(f"no Jira issue {key}")
        return issue

    @staticmethod
    def _body(request: FakeRequest) -> dict[str, Any]:
        if not request.body:
            return {}
        data = request.json
        if not isinstance(data, dict):
            raise FakeError(400, "Invalid request payload. Refer to the REST API documentation and try again.")
        return data
