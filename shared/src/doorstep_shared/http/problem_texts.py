"""Every problem code's title and detail in Simplified Chinese and English (:data:`MESSAGES`),
and the Chinese titles of statuses answered without a code.

Long because: it is one table of every problem code's texts in two languages, a line or four per
code; split by app, the message test and the translators would have to look in several places.
``tests/shared/http/test_messages.py`` keeps it complete. :mod:`.messages` renders from it.
"""

from __future__ import annotations

from typing import NamedTuple


class Message(NamedTuple):
    """A code's title (short, the kind of problem) and detail (one sentence), in both languages."""

    title_zh: str
    title_en: str
    detail_zh: str
    detail_en: str


M = Message
# Every code an app can answer (tests/shared/http/test_messages.py keeps this complete).
MESSAGES: dict[str, Message] = {
    # -- the shared hierarchy and handlers
    "bad_request": M("请求有误", "Bad request", "请求无法处理，请检查后重试。", "The request cannot be processed."),
    "invalid": M("输入无效", "Invalid input", "输入的内容不符合要求。", "The input is not acceptable."),
    "validation_failed": M("输入校验未通过", "Validation failed", "部分字段有误，详见 errors。", "Invalid input."),
    "invalid_data": M(
        "数据超出范围", "Invalid data", "某个值超出了字段允许的长度或范围。", "A value does not fit its field."
    ),
    "unauthorized": M("未登录", "Unauthorized", "需要有效的登录凭证。", "Valid credentials are required."),
    "forbidden": M("无权操作", "Forbidden", "您没有执行此操作的权限。", "You may not do this."),
    "not_found": M("未找到", "Not found", "请求的资源不存在。", "The resource does not exist."),
    "method_not_allowed": M(
        "方法不允许", "Method not allowed", "此地址不支持该请求方法。", "This method is not allowed here."
    ),
    "conflict": M("数据冲突", "Conflict", "该修改与已有数据冲突。", "The change conflicts with existing data."),
    "gone": M("已不存在", "Gone", "该资源已不再提供。", "The resource is no longer available."),
    "precondition_failed": M(
        "数据已变更", "Precondition failed", "资源在您读取后已被修改，请刷新后重试。", "The resource has changed."
    ),
    "precondition_required": M(
        "缺少 If-Match",
        "Precondition required",
        "此修改需要携带资源 ETag 的 If-Match 请求头。",
        "If-Match is required.",
    ),
    "stale_etag": M("数据已变更", "Stale ETag", "资源在您读取后已被修改，请刷新后重试。", "The resource has changed."),
    "payload_too_large": M(
        "内容过大", "Payload too large", "请求内容超出了大小上限。", "The request body is too large."
    ),
    "rate_limited": M("请求过于频繁", "Too many requests", "请求过于频繁，请稍后再试。", "Too many requests; wait."),
    "unavailable": M(
        "服务暂不可用", "Service unavailable", "服务暂时不可用，请稍后重试。", "Unavailable; retry later."
    ),
    "database_unavailable": M(
        "数据库暂不可用", "Database unavailable", "数据库暂时无法连接，请稍后重试。", "The database is not reachable."
    ),
    "not_ready": M("尚未就绪", "Not ready", "尚未就绪，请稍后再试。", "Not ready yet."),
    "internal_error": M("内部错误", "Internal error", "发生了意外错误，已记录在案。", "An unexpected error occurred."),
    "invalid_cursor": M("游标无效", "Invalid cursor", "分页或同步游标无法识别。", "The cursor is malformed."),
    "unknown_field": M(
        "字段不存在",
        "Unknown field",
        "fields 参数中有列表条目没有的字段，详见 unknown。",
        "The fields parameter names a field the list's items do not have (see unknown).",
    ),
    # -- tokens and permissions
    "missing_token": M("缺少令牌", "Missing token", "请求需要携带 Bearer 令牌。", "A bearer token is required."),
    "invalid_token": M("令牌无效", "Invalid token", "令牌无效，请重新登录。", "The token is not valid."),
    "token_expired": M("令牌已过期", "Token expired", "令牌已过期，请重新登录或刷新。", "The token has expired."),
    "wrong_token_type": M(
        "令牌类型不符", "Wrong token type", "此处需要另一种令牌。", "Another kind of token is needed."
    ),
    "missing_permission": M(
        "缺少权限",
        "Missing permission",
        "您的账号缺少此操作所需的权限。",
        "A permission this operation needs is missing.",
    ),
    "missing_role": M("角色不符", "Missing role", "此操作需要特定的角色。", "One of the required roles is missing."),
    "admin_only": M("仅限管理员", "Admins only", "只有社区或县级管理员可以执行此操作。", "Only admins may do this."),
    "county_scope": M("仅限县级角色", "County roles only", "只有县级角色可以对全县执行此操作。", "County roles only."),
    "community_scope": M("超出本社区", "Own community only", "您只能对本社区执行此操作。", "Own community only."),
    # -- the gateway: sign-in, clients, forwarding, reports
    "invalid_grant": M("凭证无效", "Invalid grant", "用户名、密码或刷新令牌无效。", "Invalid credentials."),
    "invalid_client": M("客户端认证失败", "Invalid client", "客户端身份验证未通过。", "Client authentication failed."),
    "unsupported_grant_type": M(
        "不支持的授权类型", "Unsupported grant type", "不支持该 grant_type。", "This grant_type is not supported."
    ),
    "invalid_scope": M(
        "权限范围无效", "Invalid scope", "申请的权限范围超出了客户端的授权。", "The scope exceeds the grant."
    ),
    "upstream_error": M("上游服务出错", "Upstream error", "后端服务未能正常应答。", "The service failed to answer."),
    "upstream_timeout": M(
        "上游服务超时", "Upstream timeout", "后端服务未能及时应答。", "The service did not answer in time."
    ),
    "upstream_unavailable": M(
        "上游服务不可用", "Upstream unavailable", "后端服务暂时不可用，请稍后重试。", "The service is unavailable."
    ),
    "community_not_found": M("社区不存在", "Community not found", "没有这个社区。", "No such community."),
    # -- webhooks
    "clients_only": M("仅限机器客户端", "Clients only", "只有机器客户端可以订阅。", "Only machine clients subscribe."),
    "event_not_permitted": M(
        "无权订阅该事件", "Event not permitted", "订阅此事件需要更多的权限范围。", "This event needs another scope."
    ),
    "unknown_event_type": M("未知事件类型", "Unknown event type", "没有这种事件类型。", "No such event type."),
    "subscription_inactive": M(
        "订阅已停用", "Subscription inactive", "该订阅已停用。", "The subscription is deactivated."
    ),
    "subscription_not_found": M("订阅不存在", "Subscription not found", "没有这个订阅。", "No such subscription."),
    "subscription_changed": M(
        "订阅已变更", "Subscription changed", "订阅已被修改，请刷新。", "The subscription changed."
    ),
    "too_many_subscriptions": M(
        "订阅过多", "Too many subscriptions", "该客户端的有效订阅已达上限。", "Too many active subscriptions."
    ),
    "delivery_not_found": M("投递记录不存在", "Delivery not found", "没有这条投递记录。", "No such delivery."),
    "url_invalid": M("地址无效", "Invalid URL", "这不是有效的网址。", "Not a valid URL."),
    "url_scheme": M("地址协议不支持", "URL scheme", "只能使用 http 或 https 地址。", "Only http and https URLs."),
    "url_https_required": M("需要 HTTPS", "HTTPS required", "需要 https 地址。", "An https URL is required."),
    "url_credentials": M(
        "地址含有凭证", "URL credentials", "网址中不能包含用户名或密码。", "No credentials in the URL."
    ),
    "url_unresolvable": M("地址无法解析", "Unresolvable URL", "该主机名无法解析。", "The host does not resolve."),
    "url_not_allowed": M("地址不允许", "URL not allowed", "网址必须指向公网地址。", "The URL must be public."),
    # -- idempotency
    "invalid_idempotency_key": M(
        "幂等键无效",
        "Invalid Idempotency-Key",
        "Idempotency-Key 请求头格式不正确。",
        "The Idempotency-Key is malformed.",
    ),
    "idempotency_key_reused": M(
        "幂等键被复用", "Idempotency-Key reused", "该幂等键已用于另一个请求。", "The key was used for another request."
    ),
    "idempotency_in_progress": M(
        "请求处理中",
        "Request in progress",
        "同一幂等键的请求仍在处理，请稍后重试。",
        "The first request is still running.",
    ),
    # -- catalog
    "duplicate_code": M("编码重复", "Duplicate code", "该编码已存在。", "The code already exists."),
    "unknown_category": M("未知分类", "Unknown category", "没有这个分类。", "No such category."),
    "invalid_transition": M(
        "状态变更无效", "Invalid transition", "当前状态不能变更为目标状态。", "Not a valid transition."
    ),
    "invalid_rule": M(
        "资格规则无效", "Invalid rule", "资格规则有误，详见 errors。", "The eligibility rule is invalid."
    ),
    "too_many_aliases": M("别名过多", "Too many aliases", "该事项的别名已达上限。", "The item has too many aliases."),
    "unknown_county": M("县不存在", "Unknown county", "目录中没有这个县。", "No such county in the directory."),
    "no_handbook": M(
        "没有已发布的手册", "No published handbook", "该县还没有已发布的事项。", "That county has no published item."
    ),
    "county_required": M(
        "请指明县",
        "County required",
        "本部署服务多个县，而此令牌未指明县：请用 county 参数指明。",
        "This deployment serves several counties and the token names none: pass county.",
    ),
    "same_county": M(
        "不能从本县复制", "Same county", "不能把本县的手册复制到本县。", "A county cannot copy its own handbook."
    ),
    # -- proxy: ledger, workers, import
    "compound_not_found": M("小区不存在", "Compound not found", "没有这个小区。", "No such compound."),
    "household_not_found": M("户不存在", "Household not found", "没有这一户。", "No such household."),
    "resident_not_found": M("居民不存在", "Resident not found", "没有这位居民。", "No such resident."),
    "grid_not_found": M("网格不存在", "Grid not found", "没有这个网格。", "No such grid."),
    "worker_not_found": M("工作人员不存在", "Worker not found", "没有这位工作人员。", "No such worker."),
    "worker_inactive": M(
        "工作人员已停用",
        "Worker inactive",
        "该工作人员的账号已停用，不能再分派新工作。",
        "The worker's staff account is deactivated; no new work can be given to them.",
    ),
    "duplicate_resident": M(
        "居民已登记", "Duplicate resident", "此人已经登记在册。", "This person is already registered."
    ),
    "already_removed": M(
        "居民已注销", "Already removed", "该居民已不在册。", "The resident is already off the register."
    ),
    "unknown_compound": M("未知小区", "Unknown compound", "没有这个小区。", "Unknown compound."),
    "invalid_id_number": M(
        "身份证号无效", "Invalid ID number", "身份证号码格式或校验位有误。", "Not a valid ID number."
    ),
    "invalid_phone": M("电话号码无效", "Invalid phone", "不是有效的手机或固定电话号码。", "Not a valid phone number."),
    "id_mismatch": M(
        "出生日期不符", "ID mismatch", "出生日期与身份证号不一致。", "The birth date does not match the ID."
    ),
    "import_rejected": M(
        "导入被拒绝", "Import rejected", "有行未通过校验，本次未导入任何数据。", "Rows were rejected."
    ),
    "duplicate_column": M("列名重复", "Duplicate column", "表格中有重复的列。", "A column appears twice."),
    "missing_columns": M("缺少必需列", "Missing columns", "表格缺少必需的列。", "Required columns are missing."),
    "empty_sheet": M("表格为空", "Empty sheet", "表格中没有数据。", "The sheet has no data."),
    "unreadable_sheet": M("表格无法读取", "Unreadable sheet", "无法读取该表格文件。", "The sheet cannot be read."),
    "sheet_too_large": M("表格过大", "Sheet too large", "表格文件过大，请拆分后上传。", "The sheet is too large."),
    "sheet_too_slow": M(
        "表格读取超时", "Sheet too slow", "表格读取耗时过长，请拆分后上传。", "The sheet takes too long."
    ),
    # -- batch (proxy)
    "atomic_unsupported": M(
        "不支持整批原子执行",
        "Atomic batches unsupported",
        "每个操作各自提交，无法整批回滚；请去掉 atomic。",
        "Each operation commits on its own; a batch cannot be rolled back as a whole.",
    ),
    "batch_size_mismatch": M(
        "批量数量不符",
        "Batch size mismatch",
        "Doorstep-Batch-Size 请求头必须等于操作的数量。",
        "The Doorstep-Batch-Size header must equal the number of operations.",
    ),
    "too_many_rows": M("行数过多", "Too many rows", "数据行数超过上限，请拆分表格。", "Too many data rows."),
    # -- proxy: cases, visits, demands, discovery, sync
    "case_not_found": M("案件不存在", "Case not found", "没有这个代办案件。", "No such case."),
    "case_id_taken": M("案件编号已占用", "Case id taken", "该案件编号已被使用，请重新生成。", "The case id is taken."),
    "case_closed": M("案件已结束", "Case closed", "该案件已结束，不能再做此操作。", "The case is closed."),
    "illegal_transition": M(
        "状态变更不允许", "Illegal transition", "当前状态不允许此变更。", "Not allowed in this state."
    ),
    "materials_locked": M(
        "材料已锁定", "Materials locked", "此状态下材料不能再修改。", "Materials can no longer change."
    ),
    "materials_missing": M(
        "材料不全", "Materials missing", "仍有材料未齐，请全部勾选后再办结。", "Materials are missing."
    ),
    "material_not_found": M(
        "材料不存在", "Material not found", "该案件没有这项材料。", "No such material on the case."
    ),
    "open_case_exists": M("已有在办案件", "Open case exists", "该居民已有此事项的在办案件。", "An open case exists."),
    "unknown_item": M("未知事项", "Unknown item", "目录中没有这个事项。", "The item is not in the catalogue."),
    "item_not_published": M("事项未发布", "Item not published", "该事项尚未发布。", "The item is not published."),
    "item_retired": M("事项已停办", "Item retired", "该事项已停止办理。", "The item is retired."),
    "item_not_proxy_eligible": M(
        "事项不可代办", "Item not proxy-eligible", "该事项不能上门代办。", "Not proxy-eligible."
    ),
    "unknown_resident": M("未知居民", "Unknown resident", "没有这位居民。", "Unknown resident."),
    "resident_inactive": M("居民不在册", "Resident inactive", "该居民当前不在册。", "The resident is not active."),
    "unknown_case": M("未知案件", "Unknown case", "没有这个案件。", "Unknown case."),
    "unknown_worker": M("未知工作人员", "Unknown worker", "不是本社区的工作人员。", "Not a worker of the community."),
    "visit_not_found": M("走访不存在", "Visit not found", "没有这次走访。", "No such visit."),
    "visit_id_taken": M(
        "走访编号已占用", "Visit id taken", "该走访编号已被使用，请重新生成。", "The visit id is taken."
    ),
    "visit_started": M("走访已开始", "Visit started", "走访已开始或已完成，不能再做此修改。", "The visit has started."),
    "demand_not_found": M("诉求不存在", "Demand not found", "没有这条诉求。", "No such demand."),
    "unknown_demand": M("未知诉求", "Unknown demand", "没有这条诉求。", "Unknown demand."),
    "demand_not_convertible": M(
        "诉求不能转案件", "Demand not convertible", "该诉求当前状态不能转为案件。", "The demand cannot become a case."
    ),
    "lead_not_found": M("线索不存在", "Lead not found", "没有这条线索。", "No such lead."),
    "lead_converted": M("线索已转案件", "Lead converted", "该线索已经转为案件。", "The lead is already a case."),
    "illegal_lead_transition": M(
        "线索状态变更不允许", "Illegal lead transition", "线索当前状态不允许此变更。", "Not allowed."
    ),
    "run_not_found": M("排查任务不存在", "Run not found", "没有这次资格排查。", "No such discovery run."),
    "discovery_running": M(
        "排查进行中", "Discovery running", "已有资格排查在进行，请结束后重试。", "A run is in progress."
    ),
    "catalog_unavailable": M(
        "目录服务不可用", "Catalogue unavailable", "事项目录暂时无法访问，请稍后重试。", "Catalogue down."
    ),
    "sync_scope_no_grid": M(
        "没有可同步的网格",
        "No grid to sync",
        "您的账号没有负责的网格，请使用 scope=mine 或 scope=community。",
        "Your account serves no grid: ask for scope=mine or scope=community.",
    ),
    "sync_resync_required": M(
        "需要重新同步",
        "Resync required",
        "请删除本地副本，不带 since 重新同步。",
        "Drop the local copy and sync again.",
    ),
    # -- stations
    "station_not_found": M("服务站不存在", "Station not found", "没有这个服务站。", "No such station."),
    "station_exists": M("服务站已存在", "Station exists", "该服务站编码已存在。", "The station exists."),
    "service_not_found": M("服务项目不存在", "Service not found", "该服务站没有这个服务项目。", "No such service."),
    "service_exists": M("服务项目已存在", "Service exists", "该服务站已有此服务项目。", "The service exists."),
    "not_station_manager": M(
        "非本站管理人员", "Not a station manager", "您不管理这个服务站。", "You do not manage it."
    ),
    "keepers_follow_staff": M(
        "驿站社工来自人员账号",
        "Keepers follow staff records",
        "驿站社工由人员账号决定：请在该社工的账号中列出此驿站。",
        "A station's keepers come from the staff records: list the station in the keeper's account.",
    ),
    "keepers_admin_only": M(
        "仅限管理员", "Admins only", "站点管理员不能更改站点负责人。", "Keepers cannot change keepers."
    ),
    "hours_end_before_start": M(
        "结束早于开始", "End before start", "结束时间须晚于开始时间。", "The end is before the start."
    ),
    "hours_overlap": M("时间段重叠", "Hours overlap", "与已有的开放时间重叠。", "Overlaps existing opening hours."),
    "end_before_start": M(
        "结束早于开始", "End before start", "结束时间须晚于开始时间。", "The end is before the start."
    ),
    "wrong_kind": M("服务类型不符", "Wrong kind", "该服务项目不支持此操作。", "The service is of another kind."),
    "session_not_found": M("场次不存在", "Session not found", "没有这个场次。", "No such session."),
    "session_cancelled": M("场次已取消", "Session cancelled", "该场次已取消。", "The session is cancelled."),
    "session_past": M("场次已开始", "Session started", "该场次已经开始。", "The session has started."),
    "session_full": M("场次已满", "Session full", "该场次已无空位。", "The session is full."),
    "booking_not_open": M("尚未开放预约", "Booking not open", "该场次尚未开放预约。", "Booking is not open yet."),
    "booking_closed": M("预约已截止", "Booking closed", "该场次的预约已截止。", "Booking has closed."),
    "over_capacity": M("超出容量", "Over capacity", "预约人数超出场次容量。", "More than the capacity."),
    "over_resident_limit": M(
        "超出每人限额", "Over the limit", "超出每人可预约的名额。", "Too many seats per resident."
    ),
    "duplicate_booking": M("重复预约", "Duplicate booking", "该电话已预约此场次。", "This phone already booked."),
    "booking_not_found": M("预约不存在", "Booking not found", "没有这个预约。", "No such booking."),
    "booking_changed": M("预约已变更", "Booking changed", "预约已被修改，请刷新。", "The booking changed meanwhile."),
    "not_cancellable": M("不能取消", "Not cancellable", "该预约当前状态不能取消。", "The booking cannot be cancelled."),
    "cancel_cutoff_passed": M(
        "已过取消期限", "Cancellation closed", "已过取消预约的截止时间。", "Cancellation closed."
    ),
    "not_confirmed": M("预约未确认", "Not confirmed", "该预约未确认，不能签到。", "The booking is not confirmed."),
    "too_early": M("时间未到", "Too early", "还没到可以操作的时间。", "Too early."),
    "ticket_not_found": M("取件单不存在", "Ticket not found", "没有这张取件单。", "No such ticket."),
    "ticket_changed": M("取件单已变更", "Ticket changed", "取件单已被修改，请刷新。", "The ticket changed meanwhile."),
    "claim_locked": M(
        "取件已锁定", "Claim locked", "取件码错误次数过多，已锁定，请联系管理员。", "The ticket is locked."
    ),
    # the directory (gateway): imports and records
    "too_long": M("内容过长", "Too long", "该值超过允许的长度。", "The value is longer than allowed."),
    "in_another_county": M(
        "属于其他县", "In another county", "该社区已登记在其他县下。", "The community is stored under another county."
    ),
    "in_another_community": M(
        "属于其他社区",
        "In another community",
        "该网格已登记在其他社区下。",
        "The grid is stored under another community.",
    ),
    "file_too_large": M(
        "文件过大", "File too large", "上传的文件超过大小上限。", "The uploaded file is larger than allowed."
    ),
    "file_not_found": M("文件不存在", "File not found", "该材料下没有这个文件。", "No such file on this material."),
    "visit_file_not_found": M("文件不存在", "File not found", "该走访下没有这个文件。", "No such file on this visit."),
    "file_id_taken": M(
        "文件编号已被占用", "File id taken", "该文件编号已被使用，请生成新的 UUID。", "This file id is already taken."
    ),
    "file_type_refused": M(
        "文件类型不支持",
        "File type refused",
        "只接受 JPEG、PNG 照片和 PDF 扫描件（按文件内容判断）。",
        "Only JPEG, PNG and PDF files are accepted (judged by their content).",
    ),
    "file_damaged": M("文件已损坏", "File damaged", "文件内容无法读取，请重新拍摄或扫描。", "The file cannot be read."),
    "image_too_large": M(
        "图片像素过多", "Image too large", "图片像素超过上限，请降低分辨率后重传。", "The picture has too many pixels."
    ),
    "upload_gap": M(
        "上传不连续",
        "Upload gap",
        "这一段之前还有未收到的字节，请从 received 指示的位置续传。",
        "Bytes before this chunk are missing; resume at `received`.",
    ),
    "upload_size_mismatch": M(
        "文件大小不符",
        "Upload size mismatch",
        "分段声明的总大小与开始上传时不同。",
        "The total size differs from the upload's.",
    ),
    "upload_incomplete": M("上传未完成", "Upload incomplete", "文件尚未上传完毕。", "The upload is not finished."),
    "thumbnail_not_found": M("没有缩略图", "No thumbnail", "PDF 文件没有缩略图。", "This file has no thumbnail."),
    "content_range_invalid": M(
        "Content-Range 无效",
        "Invalid Content-Range",
        "请按 bytes 起-止/总数 的格式说明这一段。",
        "Expected `bytes first-last/total`.",
    ),
    "material_evidence_in_use": M(
        "材料照片正在使用",
        "Material photo in use",
        "该材料已凭此文件勾选为已收取，请先取消勾选再删除最后一个文件。",
        "The material is ticked on the strength of this file; un-tick it first.",
    ),
    "material_evidence_missing": M(
        "缺少材料照片",
        "Material photo missing",
        "该材料须先上传照片或扫描件，才能勾选为已收取。",
        "This material needs an uploaded photo or scan before it is ticked.",
    ),
    "has_active_children": M(
        "仍有下级",
        "Has active children",
        "仍有生效的下级记录，不能停用。",
        "Active records below it: it cannot be ended.",
    ),
    "unreadable_file": M(
        "文件无法读取", "Unreadable file", "无法读取上传的文件。", "The uploaded file cannot be read."
    ),
    "directory_unavailable": M(
        "目录暂不可用",
        "Directory unavailable",
        "暂时无法取得组织目录，请稍后重试。",
        "The org directory is not available yet; retry shortly.",
    ),
    # staff accounts (gateway)
    "activation_invalid": M(
        "激活码无效", "Invalid activation", "用户名或激活码不正确。", "The username or the activation code is wrong."
    ),
    "activation_expired": M(
        "激活码已过期",
        "Activation expired",
        "激活码已过期，请联系管理员重新发放。",
        "The activation code has expired: ask for a new one.",
    ),
    "weak_password": M(
        "密码强度不足", "Weak password", "密码须至少 10 位，不能含用户名，不能是常见密码。", "The password is too weak."
    ),
    "outside_scope": M(
        "超出管理范围", "Outside your scope", "该账号不在您的管理范围内。", "This account is outside what you manage."
    ),
    "username_taken": M("用户名已存在", "Username taken", "该用户名已被使用。", "This username is already taken."),
    "own_account": M(
        "不能操作本人账号", "Own account", "不能对自己的账号执行此操作。", "You cannot do this to your own account."
    ),
    "account_inactive": M("账号已停用", "Account inactive", "该账号已停用。", "The account is deactivated."),
    # two-factor sign-in, sessions, role policies (gateway identity)
    "mfa_required": M(
        "需要动态验证码",
        "Two-factor code required",
        "该账号已开启双因素认证：请在 otp 字段填写验证器中的 6 位动态码或一个恢复码。",
        "This account uses two-factor sign-in: send the authenticator's code (or a recovery code) as otp.",
    ),
    "mfa_invalid": M(
        "动态验证码错误",
        "Invalid two-factor code",
        "动态验证码或恢复码不正确、已过期或已使用过。",
        "The two-factor code or recovery code is wrong, expired or already used.",
    ),
    "password_expired": M(
        "密码已过期",
        "Password expired",
        "密码已超过岗位规定的使用期限：请先通过 POST /api/v1/auth/password 修改密码，再重新登录。",
        "The password has expired: change it with POST /api/v1/auth/password, then sign in again.",
    ),
    "mfa_enrollment_required": M(
        "须先开启双因素认证",
        "Two-factor enrolment required",
        "您的岗位要求双因素认证：请先绑定验证器（POST /api/v1/auth/mfa/enroll）。",
        "Your role requires two-factor sign-in: enrol first (POST /api/v1/auth/mfa/enroll).",
    ),
    "mfa_already_enabled": M(
        "已开启双因素认证",
        "Two factors already on",
        "该账号已开启双因素认证；如需更换验证器，请先关闭。",
        "Two-factor sign-in is already on: disable it first to enrol another authenticator.",
    ),
    "mfa_not_enrolled": M(
        "未开启双因素认证",
        "No two factors",
        "该账号没有待确认或已开启的验证器。",
        "This account has no pending or active authenticator.",
    ),
    "staff_only": M(
        "仅限工作人员账号", "Staff accounts only", "此操作仅适用于工作人员账号。", "Only staff accounts can do this."
    ),
}
del M

# Statuses answered without a catalogued code (Starlette's own ``http_<status>``).
STATUS_TITLES_ZH: dict[int, str] = {
    400: "请求有误",
    401: "未登录",
    403: "无权操作",
    404: "未找到",
    405: "方法不允许",
    406: "无法提供所需格式",
    409: "数据冲突",
    410: "已不存在",
    412: "数据已变更",
    413: "内容过大",
    415: "不支持的内容类型",
    422: "输入无效",
    428: "缺少前提条件",
    429: "请求过于频繁",
    500: "内部错误",
    502: "上游服务出错",
    503: "服务暂不可用",
    504: "上游服务超时",
}
