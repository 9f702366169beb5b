"""Labels for the board and the charts, in one catalogue: vi (default), en, fr, es, zh, ru.

`label(key, lang)` looks a key up in the requested language, then English, then
Vietnamese, and finally returns the key itself, so a missing translation shows up as
readable text instead of an exception. Every fixed label below ships in all six
languages (a test pins that). `catalogue(lang)` is the whole resolved table, ready to
hand to browser JavaScript as JSON.

Numbers and moments are formatted here too (`fmt_pct`, `fmt_int`, `as_of_label`), so
the board, the charts and the CSV agree on "99,60%" versus "99.60%". Times are shown in
the election's zone, Asia/Ho_Chi_Minh (UTC+07:00, no daylight saving).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ingest import fixtures

LANGS: tuple[str, ...] = ("vi", "en", "fr", "es", "zh", "ru")
DEFAULT_LANG = "vi"
ELECTION_TZ = timezone(timedelta(hours=7), "ICT")
"""Asia/Ho_Chi_Minh: a fixed +07:00 (Vietnam has had no daylight saving since 1975)."""

# key -> (vi, en, fr, es, zh, ru). Kept as tuples so a missing language is a visible gap.
_T: dict[str, tuple[str, ...]] = {
    # --- titles and headline figures ----------------------------------------------------
    "election_title": (
        "Bầu cử đại biểu Quốc hội khóa XV và đại biểu HĐND các cấp nhiệm kỳ 2021–2026",
        "Election of deputies to the 15th National Assembly and to People's Councils"
        " at all levels, 2021–2026 term",
        "Élection des députés à l'Assemblée nationale (XVe législature) et aux conseils"
        " populaires à tous les échelons, mandat 2021–2026",
        "Elección de diputados a la XV Asamblea Nacional y a los Consejos Populares"
        " de todos los niveles, mandato 2021–2026",
        "第十五届国会代表和2021–2026年任期各级人民议会代表选举",
        "Выборы депутатов Национального собрания XV созыва и народных советов"
        " всех уровней на 2021–2026 годы",
    ),
    "national_turnout": (
        "Tỷ lệ cử tri đi bầu cả nước",
        "National turnout",
        "Participation nationale",
        "Participación nacional",
        "全国投票率",
        "Явка по стране",
    ),
    "national": ("Cả nước", "National", "National", "Nacional", "全国", "Вся страна"),
    "turnout": ("Tỷ lệ đi bầu", "Turnout", "Participation", "Participación", "投票率", "Явка"),
    "provinces_reporting": (
        "Tỉnh, thành đã báo cáo",
        "Provinces reporting",
        "Provinces ayant rendu compte",
        "Provincias que han informado",
        "已报告省市",
        "Отчитавшиеся провинции",
    ),
    "areas_done": (
        "Khu vực bỏ phiếu đã xong",
        "Polling areas done",
        "Bureaux de vote terminés",
        "Áreas de votación concluidas",
        "已完成投票区",
        "Завершённые избирательные участки",
    ),
    "areas_remaining": (
        "Khu vực bỏ phiếu chưa xong",
        "Polling areas not yet done",
        "Bureaux de vote en cours",
        "Áreas de votación pendientes",
        "未完成投票区",
        "Незавершённые избирательные участки",
    ),
    "no_data": (
        "Chưa có số liệu",
        "No data",
        "Pas de données",
        "Sin datos",
        "暂无数据",
        "Нет данных",
    ),
    "no_data_short": ("Chưa có", "No data", "n.d.", "s.d.", "无数据", "н/д"),
    "revote_units": (
        "Đơn vị bầu cử phải bầu lại",
        "Re-vote units",
        "Circonscriptions à revoter",
        "Unidades con nueva votación",
        "需重新投票的选区",
        "Округа с повторным голосованием",
    ),
    "no_revotes": (
        "Chưa có đơn vị nào phải bầu lại",
        "No re-votes reported",
        "Aucun nouveau scrutin signalé",
        "No se ha informado de nuevas votaciones",
        "尚无重新投票报告",
        "О повторном голосовании не сообщалось",
    ),
    "leaders": (
        "Dẫn đầu",
        "Leaders",
        "En tête",
        "A la cabeza",
        "领先",
        "Лидеры",
    ),
    "laggards": (
        "Thấp nhất",
        "Laggards",
        "En queue",
        "A la zaga",
        "落后",
        "Отстающие",
    ),
    "completion_by_region": (
        "Tiến độ theo miền",
        "Completion by region",
        "Avancement par région",
        "Avance por región",
        "各地区完成进度",
        "Завершение по регионам",
    ),
    "region_North": ("Miền Bắc", "North", "Nord", "Norte", "北部", "Север"),
    "region_Central": (
        "Miền Trung – Tây Nguyên",
        "Central–Highlands",
        "Centre–Hauts plateaux",
        "Centro–Altiplanicies",
        "中部–西原",
        "Центр – Тэйнгуен",
    ),
    "region_South": ("Miền Nam", "South", "Sud", "Sur", "南部", "Юг"),
    "history": (
        "Lịch sử: Quốc hội khóa I–XV",
        "History: NA I–XV",
        "Historique : AN, Ire–XVe législatures",
        "Historia: AN, I–XV legislaturas",
        "历史：第一至十五届国会",
        "История: НС I–XV созывов",
    ),
    # --- connection status -------------------------------------------------------------
    "status_live": ("TRỰC TIẾP", "LIVE", "EN DIRECT", "EN DIRECTO", "直播", "В ЭФИРЕ"),
    "status_reconnecting": (
        "ĐANG KẾT NỐI LẠI",
        "RECONNECTING",
        "RECONNEXION",
        "RECONECTANDO",
        "正在重新连接",
        "ПЕРЕПОДКЛЮЧЕНИЕ",
    ),
    "status_stale": (
        "SỐ LIỆU CŨ",
        "STALE",
        "DONNÉES ANCIENNES",
        "DATOS ANTIGUOS",
        "数据已过时",
        "УСТАРЕЛО",
    ),
    "status_test": ("THỬ NGHIỆM", "TEST", "TEST", "PRUEBA", "测试", "ТЕСТ"),
    # --- attribution and moment --------------------------------------------------------
    "source": (
        "Nguồn: TTXVN votewire",
        "Source: VNA votewire",
        "Source : AVI votewire",
        "Fuente: VNA votewire",
        "来源：越通社 votewire",
        "Источник: ВИА votewire",
    ),
    "map_credit": (
        "Bản đồ: geoBoundaries",
        "Map: geoBoundaries",
        "Carte : geoBoundaries",
        "Mapa: geoBoundaries",
        "地图：geoBoundaries",
        "Карта: geoBoundaries",
    ),
    "as_of": (
        "Tính đến {time} ngày {date}",
        "As of {time} on {date}",
        "Situation à {time} le {date}",
        "Datos a las {time} del {date}",
        "截至{date} {time}",
        "По состоянию на {time} {date}",
    ),
    "as_of_unknown": (
        "Chưa có số liệu",
        "No figures yet",
        "Pas encore de chiffres",
        "Aún sin cifras",
        "尚无数据",
        "Данных пока нет",
    ),
    "live": ("trực tiếp", "live", "en direct", "en directo", "实时", "текущая"),
    # --- chart titles ------------------------------------------------------------------
    "chart_map": (
        "Tỷ lệ cử tri đi bầu theo tỉnh, thành",
        "Turnout by province",
        "Participation par province",
        "Participación por provincia",
        "各省市投票率",
        "Явка по провинциям",
    ),
    "chart_tiles": (
        "Tỷ lệ cử tri đi bầu theo tỉnh, thành (lưới ô)",
        "Turnout by province (tile map)",
        "Participation par province (carte en tuiles)",
        "Participación por provincia (mapa de teselas)",
        "各省市投票率（方格图）",
        "Явка по провинциям (плиточная карта)",
    ),
    "chart_ranking": (
        "Xếp hạng tỷ lệ đi bầu",
        "Turnout ranking",
        "Classement de la participation",
        "Clasificación de la participación",
        "投票率排名",
        "Рейтинг явки",
    ),
    "chart_completion": (
        "Tiến độ khu vực bỏ phiếu theo miền",
        "Polling areas done, by region",
        "Bureaux de vote terminés, par région",
        "Áreas de votación concluidas, por región",
        "各地区已完成投票区",
        "Завершённые участки по регионам",
    ),
    "chart_revotes": (
        "Đơn vị bầu cử phải bầu lại",
        "Re-votes",
        "Nouveaux scrutins",
        "Nuevas votaciones",
        "重新投票",
        "Повторное голосование",
    ),
    "chart_history": (
        "Tỷ lệ cử tri đi bầu Quốc hội khóa I–XV",
        "National Assembly turnout, terms I–XV",
        "Participation aux législatives, Ire–XVe législatures",
        "Participación en la Asamblea Nacional, legislaturas I–XV",
        "第一至十五届国会选举投票率",
        "Явка на выборах в НС, I–XV созывы",
    ),
    "chart_by_hour": (
        "Tỷ lệ cử tri đi bầu theo giờ",
        "Turnout by hour",
        "Participation heure par heure",
        "Participación por hora",
        "各时段投票率",
        "Явка по часам",
    ),
    # --- axes and columns --------------------------------------------------------------
    "axis_turnout_pct": (
        "Tỷ lệ đi bầu (%)",
        "Turnout (%)",
        "Participation (%)",
        "Participación (%)",
        "投票率（%）",
        "Явка (%)",
    ),
    "axis_time": ("Giờ", "Time", "Heure", "Hora", "时间", "Время"),
    "axis_term": ("Khóa", "Term", "Législature", "Legislatura", "届", "Созыв"),
    "axis_areas_pct": (
        "Khu vực bỏ phiếu đã xong (%)",
        "Polling areas done (%)",
        "Bureaux de vote terminés (%)",
        "Áreas de votación concluidas (%)",
        "已完成投票区（%）",
        "Завершённые участки (%)",
    ),
    "col_code": ("Mã", "Code", "Code", "Código", "代码", "Код"),
    "col_province": ("Tỉnh, thành", "Province", "Province", "Provincia", "省市", "Провинция"),
    "col_voted": ("Đã bỏ phiếu", "Voted", "Votants", "Votantes", "已投票", "Проголосовали"),
    "col_registered": (
        "Tổng số cử tri",
        "Registered",
        "Inscrits",
        "Inscritos",
        "登记选民",
        "Зарегистрировано",
    ),
    "col_turnout_pct": (
        "Tỷ lệ (%)",
        "Turnout (%)",
        "Participation (%)",
        "Participación (%)",
        "投票率（%）",
        "Явка (%)",
    ),
    "col_as_of": ("Tính đến", "As of", "Situation à", "Datos a", "截至", "По состоянию на"),
    "col_areas_done": (
        "KVBP đã xong",
        "Areas done",
        "Bureaux terminés",
        "Áreas concluidas",
        "已完成投票区",
        "Участков завершено",
    ),
    "col_areas_total": (
        "Tổng số KVBP",
        "Areas total",
        "Total des bureaux",
        "Total de áreas",
        "投票区总数",
        "Всего участков",
    ),
    "col_revote_units": (
        "Đơn vị bầu lại",
        "Re-vote units",
        "Circonscriptions à revoter",
        "Unidades con nueva votación",
        "重新投票选区",
        "Округа с переголосованием",
    ),
    "col_unit": (
        "Đơn vị bầu cử",
        "Electoral unit",
        "Circonscription",
        "Unidad electoral",
        "选区",
        "Округ",
    ),
    "col_level": ("Cấp", "Level", "Échelon", "Nivel", "级别", "Уровень"),
    "col_reason": ("Lý do", "Reason", "Motif", "Motivo", "原因", "Причина"),
    "col_status": ("Tình trạng", "Status", "Statut", "Estado", "状态", "Статус"),
    "col_region": ("Miền", "Region", "Région", "Región", "地区", "Регион"),
    # --- kinds of report ---------------------------------------------------------------
    "kind_turnout": ("Tỷ lệ đi bầu", "Turnout", "Participation", "Participación", "投票率", "Явка"),
    "kind_completion": ("Tiến độ", "Completion", "Avancement", "Avance", "完成进度", "Завершение"),
    "kind_revote": (
        "Bầu lại",
        "Re-vote",
        "Nouveau scrutin",
        "Nueva votación",
        "重新投票",
        "Повторное голосование",
    ),
    "kind_security": ("An ninh", "Security", "Sécurité", "Seguridad", "安全", "Безопасность"),
    "kind_note": ("Ghi chú", "Note", "Note", "Nota", "备注", "Заметка"),
    # --- severities and categories of security notes -----------------------------------
    "severity_info": ("Thông tin", "Info", "Information", "Información", "信息", "Информация"),
    "severity_watch": ("Theo dõi", "Watch", "Vigilance", "Vigilancia", "关注", "Наблюдение"),
    "severity_incident": ("Sự cố", "Incident", "Incident", "Incidente", "事件", "Инцидент"),
    "category_security": ("An ninh", "Security", "Sécurité", "Seguridad", "安全", "Безопасность"),
    "category_order": (
        "Trật tự",
        "Public order",
        "Ordre public",
        "Orden público",
        "秩序",
        "Общественный порядок",
    ),
    "category_traffic": ("Giao thông", "Traffic", "Circulation", "Tráfico", "交通", "Транспорт"),
    "category_weather": ("Thời tiết", "Weather", "Météo", "Meteorología", "天气", "Погода"),
    "category_health": ("Y tế", "Health", "Santé", "Salud", "卫生", "Здоровье"),
    "category_other": ("Khác", "Other", "Autre", "Otro", "其他", "Другое"),
    # --- re-votes ----------------------------------------------------------------------
    "level_na": (
        "Quốc hội",
        "National Assembly",
        "Assemblée nationale",
        "Asamblea Nacional",
        "国会",
        "Национальное собрание",
    ),
    "level_province": (
        "HĐND cấp tỉnh",
        "Provincial council",
        "Conseil provincial",
        "Consejo provincial",
        "省级人民议会",
        "Провинциальный совет",
    ),
    "level_district": (
        "HĐND cấp huyện",
        "District council",
        "Conseil de district",
        "Consejo de distrito",
        "县级人民议会",
        "Районный совет",
    ),
    "level_commune": (
        "HĐND cấp xã",
        "Commune council",
        "Conseil communal",
        "Consejo comunal",
        "乡级人民议会",
        "Общинный совет",
    ),
    "reason_turnout_below_half": (
        "Dưới một nửa cử tri đi bầu",
        "Turnout below half",
        "Participation inférieure à la moitié",
        "Participación inferior a la mitad",
        "投票率不足一半",
        "Явка ниже половины",
    ),
    "reason_insufficient_elected": (
        "Chưa bầu đủ số đại biểu",
        "Too few elected",
        "Nombre d'élus insuffisant",
        "Número insuficiente de electos",
        "当选人数不足",
        "Избрано недостаточно депутатов",
    ),
    "reason_violation": (
        "Vi phạm pháp luật bầu cử",
        "Electoral violation",
        "Violation de la loi électorale",
        "Infracción electoral",
        "违反选举法",
        "Нарушение избирательного закона",
    ),
    "reason_other": (
        "Lý do khác",
        "Other reason",
        "Autre motif",
        "Otro motivo",
        "其他原因",
        "Другая причина",
    ),
    "revote_status_announced": (
        "Đã công bố",
        "Announced",
        "Annoncé",
        "Anunciada",
        "已宣布",
        "Объявлено",
    ),
    "revote_status_scheduled": (
        "Đã lên lịch",
        "Scheduled",
        "Programmé",
        "Programada",
        "已安排",
        "Назначено",
    ),
    "revote_status_held": ("Đã tổ chức", "Held", "Tenu", "Celebrada", "已举行", "Проведено"),
    "revote_status_cancelled": (
        "Đã hủy",
        "Cancelled",
        "Annulé",
        "Cancelada",
        "已取消",
        "Отменено",
    ),
    # --- note tags ---------------------------------------------------------------------
    "tag_remote": (
        "Vùng sâu, vùng xa",
        "Remote",
        "Zone reculée",
        "Zona remota",
        "偏远地区",
        "Отдалённые районы",
    ),
    "tag_island": ("Hải đảo", "Island", "Île", "Isla", "海岛", "Острова"),
    "tag_border": ("Biên giới", "Border", "Frontière", "Frontera", "边境", "Приграничье"),
    "tag_ethnic": (
        "Đồng bào dân tộc thiểu số",
        "Ethnic minorities",
        "Minorités ethniques",
        "Minorías étnicas",
        "少数民族",
        "Этнические меньшинства",
    ),
    "tag_industrial": (
        "Khu công nghiệp",
        "Industrial zone",
        "Zone industrielle",
        "Zona industrial",
        "工业区",
        "Промышленная зона",
    ),
    "tag_first_time_voters": (
        "Cử tri lần đầu đi bầu",
        "First-time voters",
        "Primo-votants",
        "Votantes primerizos",
        "首次投票选民",
        "Голосующие впервые",
    ),
    "tag_elderly": (
        "Người cao tuổi",
        "Elderly",
        "Personnes âgées",
        "Personas mayores",
        "老年人",
        "Пожилые",
    ),
    "tag_disabled": (
        "Người khuyết tật",
        "Disabled",
        "Personnes handicapées",
        "Personas con discapacidad",
        "残疾人",
        "Люди с инвалидностью",
    ),
    "tag_transient": (
        "Lao động tạm trú",
        "Temporary residents",
        "Résidents temporaires",
        "Residentes temporales",
        "暂住人员",
        "Временные жители",
    ),
    "tag_abroad": (
        "Ở nước ngoài",
        "Abroad",
        "À l'étranger",
        "En el extranjero",
        "海外",
        "За рубежом",
    ),
    # --- the editors' desk: official figures beside ours on charts ----------------------
    "official_figure": (
        "Số liệu công bố chính thức",
        "Official figure",
        "Chiffre officiel",
        "Cifra oficial",
        "宣布数据",
        "Официальные данные",
    ),
    "official_diff": ("chênh lệch", "difference", "écart", "diferencia", "Δ", "разница"),
    # --- map annotations ---------------------------------------------------------------
    "island_hoang_sa": (
        "QĐ. Hoàng Sa (Đà Nẵng)",
        "Hoang Sa archipelago (Da Nang)",
        "Archipel de Hoang Sa (Da Nang)",
        "Archipiélago Hoang Sa (Da Nang)",
        "黄沙群岛（岘港）",
        "Архипелаг Хоангша (Дананг)",
    ),
    "island_truong_sa": (
        "QĐ. Trường Sa (Khánh Hòa)",
        "Truong Sa archipelago (Khanh Hoa)",
        "Archipel de Truong Sa (Khanh Hoa)",
        "Archipiélago Truong Sa (Khanh Hoa)",
        "长沙群岛（庆和）",
        "Архипелаг Чыонгша (Кханьхоа)",
    ),
    # --- the wall board (/board) -------------------------------------------------------
    "agency": ("TTXVN", "VNA", "AVI", "VNA", "越通社", "ВИА"),
    "election_title_short": (
        "Bầu cử ĐBQH khóa XV và HĐND các cấp nhiệm kỳ 2021–2026",
        "Elections to the 15th National Assembly and People's Councils, 2021–2026",
        "Élections à la XVe Assemblée nationale et aux conseils populaires, 2021–2026",
        "Elecciones a la XV Asamblea Nacional y a los Consejos Populares, 2021–2026",
        "第十五届国会和各级人民议会代表选举",
        "Выборы в Национальное собрание XV созыва и народные советы, 2021–2026",
    ),
    "n_voters": (
        "{voted} / {registered} cử tri",
        "{voted} of {registered} voters",
        "{voted} sur {registered} électeurs",
        "{voted} de {registered} electores",
        "{voted} / {registered} 选民",
        "{voted} из {registered} избирателей",
    ),
    "zone_label": (
        "Giờ Việt Nam (UTC+7)",
        "Vietnam time (UTC+7)",
        "Heure du Vietnam (UTC+7)",
        "Hora de Vietnam (UTC+7)",
        "越南时间（UTC+7）",
        "Время во Вьетнаме (UTC+7)",
    ),
    "ticker_label": ("TIN MỚI", "LATEST", "EN BREF", "ÚLTIMA HORA", "新消息", "НОВОСТИ"),
    "chart_notes": (
        "Tin từ các địa phương",
        "News from the provinces",
        "Nouvelles des provinces",
        "Noticias de las provincias",
        "各省市消息",
        "Новости из провинций",
    ),
    "no_notes": (
        "Chưa có tin công khai",
        "No public notes yet",
        "Aucune note publique pour l'instant",
        "Aún no hay notas públicas",
        "暂无消息",
        "Публичных заметок пока нет",
    ),
    "tile_stale": (
        "Số liệu cũ hơn {n} phút",
        "Figure older than {n} min",
        "Chiffre de plus de {n} min",
        "Dato de hace más de {n} min",
        "数据已过时（>{n}分）",
        "Данные старше {n} мин",
    ),
    "tile_time": (
        "Giờ: thời điểm của số liệu mới nhất",
        "Time: moment of the latest figure",
        "Heure : celle du dernier chiffre",
        "Hora: la del último dato",
        "时间：数据时间",
        "Время: момент последних данных",
    ),
    "more_rows": (
        "… và {n} đơn vị khác",
        "… and {n} more",
        "… et {n} de plus",
        "… y {n} más",
        "…其他{n}",
        "… и ещё {n}",
    ),
}

# Number separators (decimal, thousands) and how a percentage is written.
_SEPARATORS = {"vi": ",.", "en": ".,", "fr": ",\u202f", "es": ",.", "zh": ".,", "ru": ",\u00a0"}
_PCT = {
    "vi": "{}%",
    "en": "{}%",
    "fr": "{}\u00a0%",
    "es": "{}\u00a0%",
    "zh": "{}%",
    "ru": "{}\u00a0%",
}
_DATE = {
    "vi": "{d}/{m}/{y}",
    "en": "{d}/{m}/{y}",
    "fr": "{d}/{m}/{y}",
    "es": "{d}/{m}/{y}",
    "zh": "{y}年{m}月{d}日",
    "ru": "{d:02d}.{m:02d}.{y}",
}


def _lang(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT_LANG


def label(key: str, lang: str = DEFAULT_LANG) -> str:
    """The label `key` in `lang`, falling back to English, then Vietnamese, then the key."""
    row = _T.get(key)
    if row is None:
        return key
    for candidate in (_lang(lang), "en", "vi"):
        i = LANGS.index(candidate)
        if i < len(row) and row[i]:
            return row[i]
    return key


def catalogue(lang: str = DEFAULT_LANG) -> dict[str, str]:
    """Every label resolved for `lang` (with fallbacks), e.g. for the browser's JS."""
    out = {key: label(key, lang) for key in _T}
    out["_lang"] = _lang(lang)
    out["_separators"] = separators(lang)
    return out


def keys() -> tuple[str, ...]:
    return tuple(_T)


def separators(lang: str = DEFAULT_LANG) -> str:
    """Plotly's `layout.separators`: decimal mark then thousands mark."""
    return _SEPARATORS[_lang(lang)]


def fmt_int(value: int | None, lang: str = DEFAULT_LANG) -> str:
    """69523133 → "69.523.133" (vi), "69,523,133" (en); None → the "no data" label."""
    if value is None:
        return label("no_data", lang)
    thousands = separators(lang)[1]
    return f"{int(value):,}".replace(",", thousands)


def fmt_pct(value: float | None, lang: str = DEFAULT_LANG, digits: int = 2) -> str:
    """99.6 → "99,60%" (vi), "99.60%" (en), "99,60 %" (fr); None → the "no data" label.

    Rounding happens only here, at display time (protocol §2)."""
    if value is None:
        return label("no_data", lang)
    decimal = separators(lang)[0]
    return _PCT[_lang(lang)].format(f"{value:.{digits}f}".replace(".", decimal))


def to_local(moment: datetime | str | None) -> datetime | None:
    """An aware datetime (or ISO 8601 string) in the election's zone; naive means +07:00."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=ELECTION_TZ)
    return moment.astimezone(ELECTION_TZ)


def as_of_label(dt: datetime | str | None, lang: str = DEFAULT_LANG) -> str:
    """ "Tính đến 15:00 ngày 23/5/2021" / "As of 15:00 on 23/5/2021", in +07:00.

    None (no figure yet) gives "Chưa có số liệu" / "No figures yet"."""
    local = to_local(dt)
    if local is None:
        return label("as_of_unknown", lang)
    lang = _lang(lang)
    date = _DATE[lang].format(d=local.day, m=local.month, y=local.year)
    return label("as_of", lang).format(time=f"{local:%H:%M}", date=date)


def province_name(code: str, lang: str = DEFAULT_LANG) -> str:
    """Short name: Vietnamese with diacritics for vi ("Hà Nội"), `name_en` otherwise."""
    p = fixtures.province_index().get(code)
    if p is None:
        return code
    return p.name if _lang(lang) == "vi" else p.name_en


def region_name(region3: str, lang: str = DEFAULT_LANG) -> str:
    """North / Central / South → "Miền Bắc" / "Miền Trung – Tây Nguyên" / "Miền Nam"."""
    return label(f"region_{region3}", lang)


# --- the correspondent's mobile page (/report) ------------------------------------------
# Kept apart from the board's catalogue above: key -> (vi, en). Read by server/mobile.py,
# which hands both languages to dashboards/static/report.js. "{n}"-style slots are filled
# in by the page.

MOBILE: dict[str, tuple[str, str]] = {
    "app_title": ("Báo cáo bầu cử", "Election reports"),
    "agency": ("TTXVN · votewire", "VNA · votewire"),
    "lang_switch": ("EN", "VI"),
    "lang_switch_name": ("English", "Tiếng Việt"),
    "rehearsal": ("DIỄN TẬP – không phải số liệu thật", "REHEARSAL – not real figures"),
    "signin_title": ("Đăng nhập", "Sign in"),
    "signin_help": (
        "Nhập mã truy cập của văn phòng do Ban biên tập cấp, hoặc mở đường dẫn / mã QR"
        " được gửi cho bạn.",
        "Type your bureau's access token from the desk, or open the link / QR code you were sent.",
    ),
    "token": ("Mã truy cập", "Access token"),
    "signin": ("Đăng nhập", "Sign in"),
    "signin_checking": ("Đang kiểm tra mã…", "Checking the token…"),
    "signin_offline": (
        "Chưa kiểm tra được mã vì mất mạng; báo cáo sẽ được gửi khi có mạng.",
        "Could not check the token (no network); reports will go when it is back.",
    ),
    "signout": ("Đăng xuất", "Sign out"),
    "signout_confirm": (
        "Còn {n} báo cáo chưa gửi, vẫn được giữ trên máy này. Đăng xuất?",
        "{n} reports are not sent yet; they stay on this phone. Sign out?",
    ),
    "conn_ws": ("Đã kết nối", "Connected"),
    "conn_http": ("Kết nối qua HTTP", "Connected over HTTP"),
    "conn_connecting": ("Đang kết nối…", "Connecting…"),
    "conn_offline": ("Mất kết nối · tự gửi lại", "Offline · will resend"),
    "conn_auth": ("Mã bị từ chối", "Token refused"),
    "role_editor": ("Biên tập viên", "Editor"),
    "new_report": ("Báo cáo mới", "New report"),
    "kind_turnout": ("Đi bầu", "Turnout"),
    "kind_completion": ("Tiến độ", "Progress"),
    "kind_revote": ("Bầu lại", "Re-vote"),
    "kind_security": ("An ninh", "Security"),
    "kind_note": ("Ghi chú", "Note"),
    "province": ("Tỉnh, thành phố", "Province"),
    "as_of": ("Số liệu tính đến (giờ Việt Nam)", "Figure as of (Vietnam time)"),
    "as_of_now": ("Bây giờ", "Now"),
    "mode_count": ("Số người", "Count"),
    "mode_pct": ("Tỷ lệ %", "Percent"),
    "voted": ("Số cử tri đã bầu", "Voters who have voted"),
    "turnout_pct": ("Tỷ lệ cử tri đi bầu (%)", "Turnout (%)"),
    "registered": ("Tổng số cử tri (nếu khác)", "Registered voters (if different)"),
    "registered_default": ("Mặc định {n}", "Default {n}"),
    "derived_pct": ("≈ {pct} tổng số cử tri", "≈ {pct} of registered voters"),
    "derived_voted": ("≈ {n} cử tri", "≈ {n} voters"),
    "n_voters": ("{n} cử tri", "{n} voters"),
    "n_areas": ("{done}/{total} khu vực bỏ phiếu", "{done}/{total} polling areas"),
    "n_units": ("{done}/{total} đơn vị bầu cử", "{done}/{total} electoral units"),
    "areas_done": ("Khu vực bỏ phiếu đã xong", "Polling areas done"),
    "areas_total": ("Tổng số khu vực bỏ phiếu", "Polling areas in all"),
    "units_done": ("Đơn vị bầu cử đã xong", "Electoral units done"),
    "units_total": ("Tổng số đơn vị bầu cử", "Electoral units in all"),
    "optional": ("không bắt buộc", "optional"),
    "unit": ("Đơn vị bầu cử", "Electoral unit"),
    "unit_placeholder": ("Ví dụ: Đơn vị bầu cử số 3", "e.g. Electoral unit no. 3"),
    "level": ("Cấp bầu cử", "Level"),
    "level_na": ("Quốc hội", "National Assembly"),
    "level_province": ("HĐND tỉnh", "Provincial council"),
    "level_district": ("HĐND huyện", "District council"),
    "level_commune": ("HĐND xã", "Commune council"),
    "reason": ("Lý do", "Reason"),
    "reason_turnout_below_half": ("Chưa đủ một nửa cử tri đi bầu", "Turnout below half"),
    "reason_insufficient_elected": ("Không đủ số người trúng cử", "Too few elected"),
    "reason_violation": ("Vi phạm pháp luật bầu cử", "Election law violated"),
    "reason_other": ("Lý do khác", "Other reason"),
    "status": ("Tình trạng", "Status"),
    "status_announced": ("Đã công bố", "Announced"),
    "status_scheduled": ("Đã định ngày", "Scheduled"),
    "status_held": ("Đã bầu lại", "Held"),
    "status_cancelled": ("Đã hủy", "Cancelled"),
    "note": ("Ghi chú", "Note"),
    "severity": ("Mức độ", "Severity"),
    "severity_info": ("Thông tin", "Info"),
    "severity_watch": ("Theo dõi", "Watch"),
    "severity_incident": ("Sự cố", "Incident"),
    "category": ("Lĩnh vực", "Category"),
    "category_security": ("An ninh", "Security"),
    "category_order": ("Trật tự", "Public order"),
    "category_traffic": ("Giao thông", "Traffic"),
    "category_weather": ("Thời tiết", "Weather"),
    "category_health": ("Y tế", "Health"),
    "category_other": ("Khác", "Other"),
    "text": ("Nội dung", "Text"),
    "location": ("Địa điểm", "Location"),
    "audience": ("Ai được xem", "Who may see it"),
    "audience_internal": ("Nội bộ", "Internal"),
    "audience_public": ("Công khai", "Public"),
    "tags_voters": ("Cử tri đặc biệt", "Special voters"),
    "tags_areas": ("Địa bàn đặc biệt", "Special areas"),
    "tag_ethnic": ("Đồng bào dân tộc", "Ethnic minorities"),
    "tag_first_time_voters": ("Lần đầu đi bầu", "First-time voters"),
    "tag_elderly": ("Người cao tuổi", "Elderly"),
    "tag_disabled": ("Người khuyết tật", "Disabled"),
    "tag_transient": ("Cử tri vãng lai", "Transient voters"),
    "tag_abroad": ("Từ nước ngoài về", "Back from abroad"),
    "tag_remote": ("Vùng sâu, vùng xa", "Remote area"),
    "tag_island": ("Hải đảo", "Island"),
    "tag_border": ("Biên giới", "Border area"),
    "tag_industrial": ("Khu công nghiệp", "Industrial zone"),
    "send": ("Gửi báo cáo", "Send report"),
    "saved": ("Đã lưu vào hộp thư đi", "Saved to the outbox"),
    "fix_fields": ("Hãy sửa các ô được đánh dấu", "Fix the marked fields"),
    "outbox": ("Hộp thư đi", "Outbox"),
    "outbox_empty": ("Chưa có báo cáo nào trên máy này.", "No reports on this phone yet."),
    "queued_count": ("{n} chờ gửi", "{n} queued"),
    "clear_sent": ("Xóa mục đã gửi", "Clear sent"),
    "state_queued": ("Chờ gửi", "Queued"),
    "state_sent": ("Đã gửi ✓", "Sent ✓"),
    "state_refused": ("Bị từ chối ✗", "Refused ✗"),
    "via_http": ("qua HTTP", "via HTTP"),
    "send_as_correction": ("Gửi lại là đính chính", "Send as correction"),
    "resent_as_correction": ("Đã gửi lại là đính chính", "Re-sent as a correction"),
    "correction": ("Đính chính", "Correction"),
    "my_province": ("Tỉnh của tôi", "My province"),
    "turnout_now": ("Tỷ lệ đi bầu", "Turnout"),
    "voted_of": ("{voted} / {registered} cử tri", "{voted} / {registered} voters"),
    "areas_progress": ("Khu vực bỏ phiếu xong", "Polling areas done"),
    "revote_units": ("Đơn vị phải bầu lại", "Re-vote units"),
    "security_level": ("An ninh (công khai)", "Security (public)"),
    "last_report": ("Báo cáo mới nhất", "Latest report"),
    "no_data": ("Chưa có số liệu", "No data"),
    "as_of_at": ("lúc {t}", "as of {t}"),
    "my_reports": ("Báo cáo gần đây của tôi", "My recent reports"),
    "my_reports_empty": ("Chưa có báo cáo nào.", "No reports yet."),
    "retracted": ("Đã rút lại", "Retracted"),
    "err_required": ("Cần nhập ô này", "Required"),
    "err_int": ("Phải là số nguyên, từ 0 trở lên", "A whole number, 0 or more"),
    "err_positive": ("Phải là số nguyên lớn hơn 0", "A whole number above 0"),
    "err_pct": ("Phải từ 0 đến 100", "From 0 to 100"),
    "err_gt_registered": (
        "Lớn hơn tổng số cử tri ({n})",
        "More than the registered voters ({n})",
    ),
    "err_done_gt_total": ("Số đã xong lớn hơn tổng số", "Done is more than the total"),
    "err_pair": ("Cần nhập cả hai số", "Give both numbers"),
    "err_too_long": ("Quá dài (tối đa {n} ký tự)", "Too long (at most {n} characters)"),
    "err_too_many_tags": ("Tối đa {n} nhãn", "At most {n} tags"),
    "err_as_of": ("Chọn ngày và giờ", "Pick a date and time"),
    "err_window": (
        "Ngoài thời gian bầu cử ({from} – {to})",
        "Outside the election window ({from} – {to})",
    ),
    "err_future": (
        "Thời điểm ở tương lai: kiểm tra đồng hồ điện thoại",
        "In the future: check the phone's clock",
    ),
}


# --- the editors' desk (/editor) ----------------------------------------------------------
# key -> (vi, en), like MOBILE: the desk is an internal tool of the agency's Vietnamese
# newsroom (English for its foreign-language desks). Chart labels, which are published in
# all six languages, stay in the catalogue above. Read by server/editor.py, which hands them
# to dashboards/static/editor.js; "{n}"-style slots are filled in by the page.

DESK: dict[str, tuple[str, str]] = {
    "title": ("Bàn biên tập", "Editors' desk"),
    "agency": ("TTXVN · votewire", "VNA · votewire"),
    "rehearsal": ("DIỄN TẬP – không phải số liệu thật", "REHEARSAL – not real figures"),
    "signin_title": ("Đăng nhập bàn biên tập", "Editors' desk sign-in"),
    "signin_help": (
        "Nhập mã truy cập biên tập viên do quản trị viên cấp.",
        "Type the editor access token an administrator issued to you.",
    ),
    "token": ("Mã truy cập", "Access token"),
    "your_name": ("Tên của bạn (ghi vào nhật ký thao tác)", "Your name (for the audit log)"),
    "signin": ("Đăng nhập", "Sign in"),
    "signout": ("Đăng xuất", "Sign out"),
    "err_unknown_token": ("Mã không đúng hoặc đã bị thu hồi", "Unknown or revoked token"),
    "err_not_editor": (
        "Mã này không phải của biên tập viên",
        "This token does not belong to an editor",
    ),
    "conn_live": ("Trực tiếp", "Live"),
    "conn_connecting": ("Đang kết nối…", "Connecting…"),
    "conn_offline": ("Mất kết nối · đang thử lại", "Offline · retrying"),
    "moment": ("Thời điểm", "Moment"),
    "back_to_live": ("Về trực tiếp", "Back to live"),
    "rewound": ("Đang xem lại", "Rewound"),
    "region_all": ("Cả nước", "All regions"),
    "col_code": ("Mã", "Code"),
    "col_province": ("Tỉnh, thành", "Province"),
    "col_turnout": ("Tỷ lệ đi bầu", "Turnout"),
    "col_voted": ("Đã bầu / cử tri", "Voted / registered"),
    "col_completion": ("Khu vực xong", "Areas done"),
    "col_revotes": ("Bầu lại", "Re-votes"),
    "col_security": ("An ninh", "Security"),
    "col_last": ("Số liệu lúc", "Figure at"),
    "col_official": ("Chính thức (Δ)", "Official (Δ)"),
    "col_pick": ("Vẽ", "Plot"),
    "pick_help": ("Chọn tỉnh cho biểu đồ theo giờ", "Pick provinces for the by-hour chart"),
    "overdue": ("Quá hạn", "Overdue"),
    "overdue_since": ("Chưa có số liệu từ mốc {t}", "No figure since the {t} checkpoint"),
    "overdue_count": ("{n} tỉnh quá hạn", "{n} overdue"),
    "checkpoints": ("Mốc báo cáo", "Checkpoints"),
    "ours": ("TTXVN", "VNA"),
    "official": ("Chính thức", "Official"),
    "diff": ("Chênh lệch", "Difference"),
    "queue": ("Hàng chờ duyệt", "Review queue"),
    "queue_empty": ("Không có mục nào cần duyệt.", "Nothing to review."),
    "reason_correction": ("Đính chính", "Correction"),
    "reason_jump": ("Tăng đột biến", "Jump"),
    "reason_fall": ("Giảm", "Fall"),
    "reason_neighbours": ("Lệch so với tỉnh lân cận", "Out of line with neighbours"),
    "reason_security": ("An ninh", "Security"),
    "reason_internal_note": ("Ghi chú nội bộ", "Internal note"),
    "reason_acted": ("Đã xử lý", "Acted on"),
    "act_verify": ("Xác nhận", "Verify"),
    "act_publish": ("Công khai", "Publish"),
    "act_retract": ("Rút lại", "Retract"),
    "act_annotate": ("Ghi chú", "Annotate"),
    "why": ("Lý do / ghi chú", "Why / note"),
    "why_required": ("Hãy ghi lý do", "Say why"),
    "confirm_retract": (
        "Rút số liệu này khỏi mọi tổng hợp và mọi màn hình?",
        "Take this figure out of every total and off every screen?",
    ),
    "audit": ("Nhật ký thao tác", "Audit log"),
    "audit_empty": ("Chưa có thao tác nào.", "No actions yet."),
    "st_verified": ("Đã xác nhận", "Verified"),
    "st_retracted": ("Đã rút", "Retracted"),
    "st_internal": ("Nội bộ", "Internal"),
    "st_public": ("Công khai", "Public"),
    "prev_figure": ("trước đó {pct} lúc {t}", "previously {pct} at {t}"),
    "tab_official": ("Số liệu chính thức", "Official figures"),
    "scope": ("Phạm vi", "Scope"),
    "scope_national": ("Cả nước", "Nation"),
    "official_pct": ("Tỷ lệ (%)", "Turnout (%)"),
    "official_at": ("Tính đến (giờ VN)", "As of (Vietnam time)"),
    "official_source": ("Nguồn", "Source"),
    "official_source_default": ("Hội đồng Bầu cử quốc gia", "National Election Council"),
    "record": ("Ghi nhận", "Record"),
    "withdraw": ("Bỏ", "Withdraw"),
    "official_empty": ("Chưa ghi nhận số liệu chính thức nào.", "No official figure yet."),
    "tab_photos": ("Ảnh chờ duyệt", "Photos"),
    "photos_empty": ("Không có ảnh chờ duyệt.", "No photos waiting."),
    "approve": ("Duyệt", "Approve"),
    "reject": ("Từ chối", "Reject"),
    "tab_tokens": ("Mã truy cập", "Tokens"),
    "role": ("Vai trò", "Role"),
    "role_bureau": ("Văn phòng", "Bureau"),
    "role_editor": ("Biên tập viên", "Editor"),
    "role_admin": ("Quản trị", "Admin"),
    "label": ("Người giữ", "Held by"),
    "issue": ("Cấp mã", "Issue"),
    "revoke": ("Thu hồi", "Revoke"),
    "revoked": ("Đã thu hồi", "Revoked"),
    "new_token": ("Mã mới (chỉ hiện một lần):", "New token (shown once):"),
    "charts": ("Biểu đồ", "Charts"),
    "chart_lang": ("Ngôn ngữ", "Language"),
    "chart_size": ("Cỡ", "Size"),
    "download": ("Tải về", "Download"),
    "summary": ("Báo cáo tổng hợp", "Phase summary"),
    "phase_1": ("Giai đoạn 1: bỏ phiếu sớm", "Phase 1: early voting"),
    "phase_2": ("Giai đoạn 2: ngày bầu cử", "Phase 2: election day"),
    "phase_3": ("Giai đoạn 3: bầu lại, bầu thêm", "Phase 3: re-votes"),
    "summary_provinces": ("Số liệu theo tỉnh, thành", "By province"),
    "summary_timeline": ("Diễn biến tỷ lệ đi bầu", "Turnout through the phase"),
    "summary_revotes": ("Đơn vị bầu lại", "Re-vote units"),
    "summary_notes": ("Ghi chú đã công bố", "Published notes"),
    "summary_none": ("Không có.", "None."),
    "print": ("In", "Print"),
    "error": ("Không thực hiện được: {m}", "Could not do it: {m}"),
    "done": ("Đã xong", "Done"),
}
