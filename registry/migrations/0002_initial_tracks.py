from django.db import migrations

# The fifteen tracks of the first edition (PRODUCT.md). Kept here, not imported, so
# that later edits to the app cannot change what this migration did.
# (slug, English name, Chinese name, English description, Chinese description, colour)
INITIAL_TRACKS = [
    ("ai-companion", "AI companions & social", "AI陪伴与社交",
     "Virtual companions, role-play and social apps built on AI.", "虚拟陪伴、角色扮演与AI社交应用。", "#e11d48"),
    ("customer-service", "Customer service", "智能客服",
     "Chat and voice agents that answer customers.", "面向客户的对话与语音服务机器人。", "#0891b2"),
    ("healthcare", "Healthcare", "AI+医疗",
     "Diagnosis support, medical records, drug discovery and care.", "辅助诊断、病历、药物研发与健康服务。", "#16a34a"),
    ("education", "Education", "AI+教育",
     "Tutoring, learning tools and teaching assistants.", "智能辅导、学习工具与教学助手。", "#ca8a04"),
    ("finance", "Finance", "AI+金融",
     "Research, risk, compliance and advice for financial services.", "投研、风控、合规与金融服务。", "#1d4ed8"),
    ("image-design", "Image & design", "图像生成与设计",
     "Image generation, editing and design tools.", "图像生成、编辑与设计工具。", "#c026d3"),
    ("video", "Video generation", "视频生成",
     "Text-to-video, digital humans and video editing.", "文生视频、数字人与视频剪辑。", "#dc2626"),
    ("voice-audio", "Voice & audio", "语音与音频",
     "Speech recognition and synthesis, music and sound.", "语音识别与合成、音乐与音频。", "#ea580c"),
    ("agents", "AI agents", "智能体",
     "Agents that plan and act on a user's behalf.", "能规划并代替用户执行任务的智能体。", "#7c3aed"),
    ("coding", "Coding & developer tools", "AI编程与开发工具",
     "Code assistants, testing and developer platforms.", "编程助手、测试与开发者平台。", "#0f766e"),
    ("productivity", "Office & productivity", "办公效率",
     "Writing, documents, meetings and office work.", "写作、文档、会议与办公协作。", "#2563eb"),
    ("marketing-ecommerce", "Marketing & e-commerce", "营销与电商",
     "Content marketing, ads, live commerce and shop tools.", "内容营销、广告、直播电商与店铺工具。", "#db2777"),
    ("enterprise-knowledge", "Enterprise knowledge & search", "企业知识与搜索",
     "Knowledge bases, enterprise search and data analysis.", "知识库、企业搜索与数据分析。", "#4d7c0f"),
    ("industry", "Industry & manufacturing", "工业与制造",
     "Manufacturing, energy, logistics and industrial inspection.", "制造、能源、物流与工业质检。", "#57534e"),
    ("infrastructure", "AI infrastructure & model services", "AI基础设施与模型服务",
     "Models, compute, training, inference and MLOps.", "大模型、算力、训练推理与MLOps。", "#334155"),
]


def create_tracks(apps, schema_editor):
    Track = apps.get_model("registry", "Track")
    for order, (slug, name_en, name_zh, description_en, description_zh, color) in enumerate(INITIAL_TRACKS, 1):
        Track.objects.update_or_create(
            slug=slug,
            defaults={
                "name_en": name_en,
                "name_zh": name_zh,
                "description_en": description_en,
                "description_zh": description_zh,
                "order": order * 10,
                "color": color,
            },
        )


def remove_tracks(apps, schema_editor):
    Track = apps.get_model("registry", "Track")
    Track.objects.filter(slug__in=[row[0] for row in INITIAL_TRACKS], projects__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunPython(create_tracks, remove_tracks)]
