"""Columns of each kind of bulk file, with their Chinese and English header names."""
from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Column:
    key: str
    required: bool
    names: tuple[str, ...]  # accepted header names (compared after normalise_header)
    label: object  # lazy translated label for messages and templates
    max_length: int = 64


def normalise_header(name: str) -> str:
    """Headers are matched ignoring case, spaces, underscores, brackets and a stray BOM."""
    table = str.maketrans("", "", " \t_-（）()[]【】\ufeff")
    return (name or "").strip().lower().translate(table)


COLUMNS: dict[str, tuple[Column, ...]] = {
    "register": (
        Column("code", True, ("code", "batterycode", "电池编码", "编码"), _("battery code")),
        Column("capacity_kwh", False, ("capacitykwh", "capacity", "额定容量kwh", "容量kwh", "额定容量", "容量"),
               _("capacity (kWh)"), 20),
        Column("weight_kg", False, ("weightkg", "weight", "重量kg", "重量"), _("weight (kg)"), 20),
        Column("parent_code", False, ("parentcode", "parent", "上级编码", "所属电池包编码", "所属上级编码"),
               _("contained in (code)")),
    ),
    "install": (
        Column("code", True, ("code", "batterycode", "电池编码", "编码"), _("battery code")),
        Column("vin", True, ("vin", "车辆识别代号", "车架号", "车辆识别代号vin"), _("VIN")),
        Column("occurred_at", False, ("occurredat", "installedat", "date", "装车时间", "装车日期", "时间"),
               _("installed at"), 40),
        Column("model_name", False, ("modelname", "model", "车型"), _("model"), 100),
        Column("is_swap_model", False, ("isswapmodel", "swapmodel", "换电车型", "是否换电车型"), _("battery-swap model"), 10),
    ),
    "hand_over": (
        Column("code", True, ("code", "batterycode", "电池编码", "编码"), _("battery code")),
        Column("recipient", True, ("recipient", "recipientuscc", "接收方统一社会信用代码", "接收方", "接收企业统一社会信用代码"),
               _("recipient (unified social credit code)")),
        Column("occurred_at", False, ("occurredat", "handedoverat", "date", "移交时间", "移交日期", "时间"),
               _("handed over at"), 40),
    ),
    # A dismantler's intake of scrapped vehicles (apps.scrapping.intake_file), one vehicle per row.
    "scrapping_intake": (
        Column("vin", True, ("vin", "车架号", "车辆识别代号", "车辆识别代号vin"), _("VIN"), 40),
        Column("plate_number", True, ("plate", "platenumber", "号牌号码", "车牌号码", "号牌", "车牌号"),
               _("plate number"), 40),
        Column("engine_number", True, ("enginenumber", "motornumber", "发动机号(电机号)", "发动机号", "电机号",
                                       "发动机号电机号", "发动机号码"), _("engine or motor number"), 60),
        Column("is_nev", True, ("isnev", "nev", "新能源汽车", "是否新能源汽车"), _("new-energy vehicle"), 10),
        Column("owner_id", True, ("ownerid", "owneridnumber", "车主身份证号", "车主身份证号码", "身份证号"),
               _("owner's identity number"), 40),
        Column("not_mortgaged", True, ("notmortgaged", "declarednotmortgaged", "无抵押", "未抵押"),
               _("not mortgaged"), 10),
        Column("not_stolen", True, ("notstolen", "declarednotstolen", "非盗抢", "非盗抢车辆"), _("not stolen"), 10),
        Column("battery_codes", False, ("batterycodes", "batteries", "电池编码", "动力电池编码"),
               _("battery codes"), 2000),
        Column("explanation", False, ("explanation", "note", "情况说明", "说明"), _("explanation"), 2000),
    ),
    # An enterprise's monthly pack-count reports (apps.filings.report_file), one month per row; the count columns
    # carry the names of MonthlyReport's fields.
    "monthly_report": (
        Column("month", True, ("month", "period", "月份", "报告月份", "所属月份"), _("month"), 20),
        Column("produced", True, ("produced", "生产", "生产数量", "生产数"), _("produced"), 20),
        Column("installed", True, ("installed", "装车", "装车数量", "装车数"), _("installed in vehicles"), 20),
        Column("swapped_in", True, ("swappedin", "换入", "换入数量"), _("swapped in"), 20),
        Column("swapped_out", True, ("swappedout", "换出", "换出数量"), _("swapped out"), 20),
        Column("replaced", True, ("replaced", "维修更换", "更换", "更换数量"), _("replaced in repairs"), 20),
        Column("removed", True, ("removed", "拆解拆卸", "拆卸", "拆卸数量"), _("removed at dismantling"), 20),
        Column("handed_over", True, ("handedover", "移交", "移交数量"), _("handed over"), 20),
        Column("received", True, ("received", "接收", "接收数量"), _("received"), 20),
        Column("recycled", True, ("recycled", "再生利用", "再生利用数量"), _("recycled"), 20),
        Column("remanufactured", True, ("remanufactured", "再制造", "再制造数量"), _("remanufactured"), 20),
        Column("in_stock", True, ("instock", "月末库存", "库存", "期末库存"), _("in stock at month end"), 20),
    ),
}

TEMPLATE_HEADERS = {
    "register": ["电池编码", "额定容量(kWh)", "重量(kg)", "所属上级编码"],
    "install": ["电池编码", "车辆识别代号", "装车时间", "车型", "换电车型"],
    "hand_over": ["电池编码", "接收方统一社会信用代码", "移交时间"],
    "monthly_report": ["月份", "生产", "装车", "换入", "换出", "维修更换", "拆解拆卸", "移交", "接收", "再生利用", "再制造",
                       "月末库存"],
    "scrapping_intake": ["车辆识别代号", "号牌号码", "发动机号(电机号)", "新能源汽车", "车主身份证号", "无抵押", "非盗抢",
                         "电池编码", "情况说明"],
}


def header_lookup(kind: str) -> dict[str, Column]:
    return {normalise_header(name): column for column in COLUMNS[kind] for name in column.names}
