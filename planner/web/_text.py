"""The pages' words in Chinese (the default) and English."""

from __future__ import annotations

LANGS = ("zh", "en")

_TEXT: dict[str, tuple[str, str]] = {
    "title": ("草原流动收运", "Steppe collection"),
    "office": ("管理中心", "Office"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "user": ("用户名", "User"),
    "password": ("密码", "Password"),
    "driver_view": ("司机手机页面", "Driver's phone view"),
    "household_view": ("农牧户绿色账户", "Household green account"),
    "bad_login": ("用户名或密码不对", "Wrong user or password"),
    "plans": ("计划", "Plans"),
    "month": ("月份", "Month"),
    "calendar": ("本月日历", "The month"),
    "map": ("路线图", "Routes"),
    "map_note": (
        "点位坐标为合成数据;线为站点间直线。",
        "Positions are synthetic; lines join the stops straight.",
    ),
    "money": ("资金与农维费", "Money against the fee budget"),
    "gacha": ("嘎查", "Gacha"),
    "township": ("苏木镇", "Township"),
    "planned": ("计划", "planned"),
    "actual": ("实际", "actual"),
    "sold_kg": ("售出 kg", "Sold kg"),
    "exchanged_kg": ("兑换 kg", "Exchanged kg"),
    "cash": ("付现 元", "Cash CNY"),
    "goods": ("物品 元", "Goods CNY"),
    "net_cost": ("净成本 元", "Net cost CNY"),
    "budget": ("农维费 元", "Fee budget CNY"),
    "balance": ("结余 元", "Balance CNY"),
    "runs": ("车次", "Runs"),
    "run": ("车次", "Run"),
    "date": ("日期", "Date"),
    "vehicle": ("车辆", "Truck"),
    "stops": ("站点", "Stops"),
    "households": ("户数", "Households"),
    "recorded": ("已记录", "Recorded"),
    "closed": ("已结账", "Closed"),
    "flags": ("对账提示", "Reconciliation flags"),
    "no_flags": ("暂无", "None"),
    "upload": ("上传填好的记录表", "Upload filled tally files"),
    "upload_btn": ("上传并导入", "Upload and import"),
    "downloads": ("下载", "Downloads"),
    "codes": ("司机登录码", "Driver codes"),
    "codes_note": (
        "每辆车每月一个登录码,印在运行单上;重新生成后旧码作废。只显示一次。",
        "One code per truck and month, printed on its run sheets; issuing again voids the old"
        " one. Shown once.",
    ),
    "codes_btn": ("生成本月登录码", "Issue this month's codes"),
    "issued": ("已生成", "issued"),
    "code": ("登录码", "Code"),
    "entries": ("记录", "Entries"),
    "stream": ("类别", "Stream"),
    "category": ("品类", "Category"),
    "kg": ("kg", "kg"),
    "points": ("积分", "Points"),
    "household": ("农牧户", "Household"),
    "point": ("收集点", "Point"),
    "arrival": ("到达", "Arrival"),
    "window": ("公告时段", "Window"),
    "card_code": ("卡号", "Card code"),
    "pin": ("PIN", "PIN"),
    "bad_pin": ("卡号或 PIN 不对", "Wrong card code or PIN"),
    "earned": ("获得积分", "Points earned"),
    "redeemed": ("已用积分", "Points redeemed"),
    "synthetic": ("合成数据", "synthetic data"),
    "imported": ("导入结果", "Import result"),
    "rejected": ("文件被拒绝,未记录任何内容", "File rejected; nothing was recorded"),
    "back": ("返回", "Back"),
    "none_yet": ("暂无", "None yet"),
    "language": ("English", "中文"),
    "money_note": (
        "计划与实际均来自台账;净成本 = 油费 + 司机 + 付现 + 物品 − 回收收入;农维费为本月分摊。",
        "Planned and actual from the ledger; net cost = fuel + driver + cash + goods − resale;"
        " the fee budget is this month's share.",
    ),
    "pins": ("农牧户卡 PIN", "Household card PINs"),
}


def texts(lang: str) -> dict[str, str]:
    """Every word of the pages in ``lang`` (``zh`` unless ``en``)."""
    k = 1 if lang == "en" else 0
    return {key: pair[k] for key, pair in _TEXT.items()}
