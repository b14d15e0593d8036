"""Vocabularies shared by several apps. Labels are Chinese-first in the UI through gettext."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Province(models.TextChoices):
    """Provincial-level divisions by their GB/T 2260 two-digit prefix."""

    BEIJING = "11", _("Beijing")
    TIANJIN = "12", _("Tianjin")
    HEBEI = "13", _("Hebei")
    SHANXI = "14", _("Shanxi")
    INNER_MONGOLIA = "15", _("Inner Mongolia")
    LIAONING = "21", _("Liaoning")
    JILIN = "22", _("Jilin")
    HEILONGJIANG = "23", _("Heilongjiang")
    SHANGHAI = "31", _("Shanghai")
    JIANGSU = "32", _("Jiangsu")
    ZHEJIANG = "33", _("Zhejiang")
    ANHUI = "34", _("Anhui")
    FUJIAN = "35", _("Fujian")
    JIANGXI = "36", _("Jiangxi")
    SHANDONG = "37", _("Shandong")
    HENAN = "41", _("Henan")
    HUBEI = "42", _("Hubei")
    HUNAN = "43", _("Hunan")
    GUANGDONG = "44", _("Guangdong")
    GUANGXI = "45", _("Guangxi")
    HAINAN = "46", _("Hainan")
    CHONGQING = "50", _("Chongqing")
    SICHUAN = "51", _("Sichuan")
    GUIZHOU = "52", _("Guizhou")
    YUNNAN = "53", _("Yunnan")
    TIBET = "54", _("Tibet")
    SHAANXI = "61", _("Shaanxi")
    GANSU = "62", _("Gansu")
    QINGHAI = "63", _("Qinghai")
    NINGXIA = "64", _("Ningxia")
    XINJIANG = "65", _("Xinjiang")


class Chemistry(models.TextChoices):
    """Battery chemistries, keyed like GB/T 34014 position 5 (battery type)."""

    LFP = "B", _("Lithium iron phosphate (LFP)")
    TERNARY = "E", _("Ternary (NCM/NCA)")
    NIMH = "A", _("Nickel-metal hydride")
    LMO = "C", _("Lithium manganese oxide")
    LCO = "D", _("Lithium cobalt oxide")
    SUPERCAPACITOR = "F", _("Supercapacitor")
    LTO = "G", _("Lithium titanate")
    OTHER = "Z", _("Other")
