//! The built-in listener's wording, in Vietnamese and English.
//!
//! Each situation has reflections (name the feeling, no question mark) and open questions (exactly
//! one question mark); a reply is one of each, so every reply asks exactly one question and the
//! combinations give enough variety that consecutive replies rarely repeat. Nothing here diagnoses,
//! advises on medication, or promises confidentiality.

use super::lexicon::Feeling;
use crate::domain::Language;

/// One reflection and, unless `questions` is empty, one question make a reply.
#[derive(Debug)]
pub(crate) struct Templates {
    /// Sentences that name and reflect the feeling; never a question.
    pub reflections: &'static [&'static str],
    /// Open questions, one of which ends the reply.
    pub questions: &'static [&'static str],
}

/// What the built-in listener is answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Situation {
    Feeling(Feeling),
    BotQuestion,
    Greeting,
    Thanks,
    Farewell,
    Unclear,
    Generic,
}

pub(crate) fn templates(situation: Situation, language: Language) -> &'static Templates {
    match language {
        Language::Vi => vietnamese(situation),
        Language::En => english(situation),
    }
}

fn vietnamese(situation: Situation) -> &'static Templates {
    match situation {
        Situation::Feeling(Feeling::Exams) => &Templates {
            reflections: &[
                "Nghe như chuyện thi cử và điểm số đang đè nặng lên bạn.",
                "Mình cảm nhận được áp lực thi cử mà bạn đang mang.",
                "Chuyện thi cử, điểm số có vẻ đang khiến bạn lo lắng và mệt mỏi nhiều.",
            ],
            questions: &[
                "Điều gì ở kỳ thi này làm bạn lo nhất?",
                "Chuyện học và thi gần đây đang diễn ra thế nào với bạn?",
                "Khi nghĩ đến điểm số, trong lòng bạn thấy thế nào?",
            ],
        },
        Situation::Feeling(Feeling::Family) => &Templates {
            reflections: &[
                "Nghe như chuyện trong gia đình đang làm bạn nặng lòng.",
                "Những chuyện với bố mẹ, người thân có thể khiến bạn rất mệt mỏi, mình hiểu.",
                "Có vẻ ở nhà đang có điều gì đó khiến bạn buồn phiền.",
            ],
            questions: &[
                "Chuyện gì ở nhà đang khiến bạn bận lòng nhất?",
                "Điều gì đã xảy ra giữa bạn và gia đình vậy?",
                "Khi ở bên gia đình, bạn thường cảm thấy thế nào?",
            ],
        },
        Situation::Feeling(Feeling::Loneliness) => &Templates {
            reflections: &[
                "Nghe như bạn đang cảm thấy cô đơn.",
                "Cảm giác một mình, như không ai hiểu, thật sự rất nặng nề.",
                "Mình nghe thấy sự cô đơn trong những gì bạn kể.",
            ],
            questions: &[
                "Cảm giác cô đơn thường đến với bạn vào lúc nào?",
                "Lúc này bạn mong được ai đó hiểu điều gì nhất?",
                "Điều gì khiến bạn thấy xa cách với mọi người?",
            ],
        },
        Situation::Feeling(Feeling::Love) => &Templates {
            reflections: &[
                "Chuyện tình cảm có vẻ đang làm bạn rối bời.",
                "Nghe như chuyện với người ấy đang khiến lòng bạn nặng trĩu.",
                "Tình cảm có thể mang lại niềm vui nhưng cũng có thể làm đau rất nhiều.",
            ],
            questions: &[
                "Chuyện giữa bạn và người ấy đang thế nào?",
                "Điều gì trong chuyện này làm bạn day dứt nhất?",
                "Lúc này bạn đang cảm thấy thế nào về người ấy?",
            ],
        },
        Situation::Feeling(Feeling::Stress) => &Templates {
            reflections: &[
                "Nghe như bạn đang chịu nhiều áp lực và mệt mỏi lắm.",
                "Mình cảm nhận được bạn đang căng thẳng.",
                "Có vẻ mọi thứ đang dồn lên bạn cùng một lúc.",
            ],
            questions: &[
                "Điều gì đang khiến bạn thấy áp lực nhất lúc này?",
                "Gần đây một ngày của bạn trôi qua thế nào?",
                "Nếu được bớt đi một điều, bạn muốn bớt điều gì nhất?",
            ],
        },
        Situation::Feeling(Feeling::Sadness) => &Templates {
            reflections: &[
                "Mình nghe thấy nỗi buồn trong lời bạn.",
                "Nghe như bạn đang buồn lắm.",
                "Có vẻ lòng bạn đang nặng trĩu nỗi buồn.",
            ],
            questions: &[
                "Điều gì đã khiến bạn buồn như vậy?",
                "Nỗi buồn này đến với bạn từ khi nào?",
                "Chuyện gì đã xảy ra với bạn vậy?",
            ],
        },
        Situation::Feeling(Feeling::Anger) => &Templates {
            reflections: &[
                "Nghe như bạn đang rất bực bội.",
                "Mình cảm nhận được sự tức giận của bạn, cảm xúc đó là dễ hiểu.",
                "Có vẻ có chuyện gì đó làm bạn ấm ức lắm.",
            ],
            questions: &[
                "Chuyện gì đã khiến bạn bực như vậy?",
                "Điều gì trong chuyện đó làm bạn khó chịu nhất?",
                "Khi cơn giận lên, bạn thường cảm thấy thế nào?",
            ],
        },
        Situation::Feeling(Feeling::Anxiety) => &Templates {
            reflections: &[
                "Nghe như bạn đang lo lắng nhiều.",
                "Mình cảm nhận được nỗi lo và sự bất an của bạn.",
                "Có vẻ điều gì đó đang khiến bạn sợ hãi và bồn chồn.",
            ],
            questions: &[
                "Điều gì đang làm bạn lo nhất?",
                "Nỗi lo này thường xuất hiện vào lúc nào?",
                "Khi thấy lo như vậy, bạn thường cảm thấy thế nào?",
            ],
        },
        Situation::Feeling(Feeling::School) => &Templates {
            reflections: &[
                "Có vẻ chuyện học hành ở trường đang làm bạn mệt mỏi.",
                "Nghe như việc học đang khiến bạn thấy nặng nề.",
                "Mình hiểu, chuyện ở trường đôi khi thật sự khó khăn.",
            ],
            questions: &[
                "Ở trường gần đây có chuyện gì với bạn?",
                "Phần nào của việc học đang làm bạn thấy khó nhất?",
                "Một ngày ở trường của bạn thường như thế nào?",
            ],
        },
        Situation::Feeling(Feeling::Bullying) => &Templates {
            reflections: &[
                "Mình rất tiếc khi nghe bạn bị đối xử như vậy, bạn không đáng phải chịu điều đó.",
                "Bị bắt nạt hay bị trêu chọc rất đau lòng, và đó không phải lỗi của bạn.",
                "Nghe như bạn đang bị người khác làm tổn thương.",
            ],
            questions: &[
                "Chuyện đó đã diễn ra như thế nào?",
                "Sau những chuyện đó, bạn đang cảm thấy thế nào?",
                "Có người lớn nào bạn tin tưởng để kể chuyện này không?",
            ],
        },
        Situation::Feeling(Feeling::Friends) => &Templates {
            reflections: &[
                "Nghe như chuyện với bạn bè đang làm bạn buồn lòng.",
                "Tình bạn đôi khi thật phức tạp, mình hiểu.",
                "Có vẻ chuyện bạn bè đang khiến bạn bận lòng.",
            ],
            questions: &[
                "Chuyện gì đã xảy ra giữa các bạn?",
                "Điều gì trong chuyện này làm bạn nghĩ nhiều nhất?",
                "Lúc này bạn đang cảm thấy thế nào về tình bạn đó?",
            ],
        },
        Situation::Feeling(Feeling::Sleep) => &Templates {
            reflections: &[
                "Nghe như bạn đang khó ngủ và rất mệt.",
                "Những đêm trằn trọc không ngủ được thật sự rất mệt mỏi.",
                "Mình hiểu, khi không ngủ được thì mọi thứ càng nặng nề hơn.",
            ],
            questions: &[
                "Những lúc thức khuya như vậy, bạn thường nghĩ đến điều gì?",
                "Tình trạng này đã kéo dài bao lâu rồi?",
                "Trước khi ngủ, trong đầu bạn thường có những suy nghĩ gì?",
            ],
        },
        Situation::Feeling(Feeling::SelfWorth) => &Templates {
            reflections: &[
                "Mình nghe thấy bạn đang rất khắt khe với chính bản thân.",
                "Cảm giác bản thân không đủ tốt thật sự rất nặng nề.",
                "Nghe như bạn đang nhìn bản thân bằng ánh mắt rất tiêu cực.",
            ],
            questions: &[
                "Điều gì khiến bạn nghĩ về bản thân như vậy?",
                "Những suy nghĩ này thường đến với bạn khi nào?",
                "Nếu một người bạn thân nói như vậy về họ, bạn sẽ muốn nói gì với họ?",
            ],
        },
        Situation::BotQuestion => &Templates {
            reflections: &[
                "Mình là một chương trình tự động được tạo ra để lắng nghe, không phải người thật và cũng không phải chuyên gia tâm lý.",
                "Mình là trợ lý lắng nghe tự động, không phải con người và không phải chuyên gia.",
                "Mình là phần mềm tự động, không phải người thật, và không thay thế được chuyên gia hay người lớn mà bạn tin tưởng.",
            ],
            questions: &[
                "Bạn muốn chia sẻ điều gì với mình?",
                "Hôm nay bạn đang cảm thấy thế nào?",
                "Có điều gì đang làm bạn bận lòng không?",
            ],
        },
        Situation::Greeting => &Templates {
            reflections: &[
                "Chào bạn, mình ở đây để lắng nghe.",
                "Chào bạn, rất vui được trò chuyện với bạn.",
                "Chào bạn, cảm ơn bạn đã ghé vào đây.",
            ],
            questions: &[
                "Hôm nay bạn thấy thế nào?",
                "Có điều gì trong lòng mà bạn muốn kể không?",
                "Hôm nay của bạn trôi qua ra sao?",
            ],
        },
        Situation::Thanks => &Templates {
            reflections: &[
                "Không có gì đâu, mình luôn sẵn lòng lắng nghe.",
                "Cảm ơn bạn đã tin tưởng chia sẻ với mình.",
                "Mình vui vì được trò chuyện cùng bạn.",
            ],
            questions: &[
                "Lúc này bạn thấy trong lòng thế nào?",
                "Còn điều gì bạn muốn kể thêm không?",
                "Bây giờ bạn cảm thấy ra sao?",
            ],
        },
        Situation::Farewell => &Templates {
            reflections: &[
                "Tạm biệt bạn, cảm ơn bạn đã trò chuyện cùng mình. Khi nào muốn kể tiếp, mình vẫn ở đây.",
                "Chúc bạn nghỉ ngơi thật tốt. Bạn có thể quay lại bất cứ lúc nào.",
                "Cảm ơn bạn đã chia sẻ hôm nay. Nhớ giữ gìn bản thân nhé.",
            ],
            questions: &[],
        },
        Situation::Unclear => &Templates {
            reflections: &[
                "Mình vẫn đang nghe đây.",
                "Không sao, bạn cứ thong thả.",
                "Mình ở đây, bạn không cần vội.",
            ],
            questions: &[
                "Bạn muốn kể thêm một chút về điều đang nghĩ không?",
                "Lúc này bạn đang cảm thấy thế nào?",
                "Điều gì đang ở trong đầu bạn vậy?",
            ],
        },
        Situation::Generic => &Templates {
            reflections: &[
                "Cảm ơn bạn đã chia sẻ với mình.",
                "Mình đang lắng nghe bạn đây.",
                "Nghe có vẻ đây là chuyện quan trọng với bạn.",
            ],
            questions: &[
                "Chuyện đó khiến bạn cảm thấy thế nào?",
                "Bạn có thể kể thêm một chút về điều đó không?",
                "Điều gì trong chuyện này làm bạn nghĩ nhiều nhất?",
            ],
        },
    }
}

fn english(situation: Situation) -> &'static Templates {
    match situation {
        Situation::Feeling(Feeling::Exams) => &Templates {
            reflections: &[
                "It sounds like exams and grades are weighing on you right now.",
                "I can hear how much pressure exams are putting on you.",
                "Tests and scores can feel like everything depends on them, and that sounds really stressful.",
            ],
            questions: &[
                "What part of it worries you the most?",
                "How have things been going with your studies lately?",
                "When you think about your results, what goes through your mind?",
            ],
        },
        Situation::Feeling(Feeling::Family) => &Templates {
            reflections: &[
                "It sounds like things at home are weighing on you.",
                "Family troubles can hurt in a way that is hard to put into words.",
                "I hear that something with your family is really bothering you.",
            ],
            questions: &[
                "What has been happening at home?",
                "What feels hardest about it for you?",
                "How do you usually feel when you're with your family?",
            ],
        },
        Situation::Feeling(Feeling::Loneliness) => &Templates {
            reflections: &[
                "It sounds like you're feeling lonely.",
                "Feeling alone, like no one really gets you, is really heavy.",
                "I can hear the loneliness in what you're sharing.",
            ],
            questions: &[
                "When does the loneliness feel strongest for you?",
                "What do you wish someone understood about you right now?",
                "What makes it hard to feel close to people lately?",
            ],
        },
        Situation::Feeling(Feeling::Love) => &Templates {
            reflections: &[
                "It sounds like something in your love life is hurting.",
                "Matters of the heart can be really painful.",
                "I can hear that things with this person are weighing on you.",
            ],
            questions: &[
                "What has been happening between you two?",
                "What part of it is hardest to let go of?",
                "How are you feeling about it right now?",
            ],
        },
        Situation::Feeling(Feeling::Stress) => &Templates {
            reflections: &[
                "It sounds like you're under a lot of pressure.",
                "I can hear how stressed and tired you are.",
                "It seems like a lot is piling up on you at once.",
            ],
            questions: &[
                "What's weighing on you the most right now?",
                "What have your days been like lately?",
                "If one thing could get lighter, which would you pick?",
            ],
        },
        Situation::Feeling(Feeling::Sadness) => &Templates {
            reflections: &[
                "I can hear the sadness in what you wrote.",
                "It sounds like you're feeling really down.",
                "It sounds like your heart is heavy right now.",
            ],
            questions: &[
                "What has been making you feel this way?",
                "When did this sadness start?",
                "What happened, if you'd like to share?",
            ],
        },
        Situation::Feeling(Feeling::Anger) => &Templates {
            reflections: &[
                "It sounds like you're really angry.",
                "I can hear how frustrated you are, and that feeling makes sense.",
                "It seems like something really got under your skin.",
            ],
            questions: &[
                "What happened that made you feel this way?",
                "What part of it bothers you the most?",
                "What does the anger feel like for you right now?",
            ],
        },
        Situation::Feeling(Feeling::Anxiety) => &Templates {
            reflections: &[
                "It sounds like you're feeling really anxious.",
                "I can hear how worried you are.",
                "It seems like something is making you feel scared and uneasy.",
            ],
            questions: &[
                "What's worrying you the most?",
                "When does the worry tend to show up?",
                "What does the anxiety feel like for you?",
            ],
        },
        Situation::Feeling(Feeling::School) => &Templates {
            reflections: &[
                "It sounds like school is wearing you down.",
                "I hear that studying feels really heavy right now.",
                "School can be really hard sometimes.",
            ],
            questions: &[
                "What has been going on at school lately?",
                "Which part of school feels hardest right now?",
                "What's a typical school day like for you?",
            ],
        },
        Situation::Feeling(Feeling::Bullying) => &Templates {
            reflections: &[
                "I'm so sorry you're being treated like that; you don't deserve it.",
                "Being bullied or picked on really hurts, and it's not your fault.",
                "It sounds like someone has been hurting you.",
            ],
            questions: &[
                "What has been happening?",
                "How are you feeling after all this?",
                "Is there a trusted adult you could tell about this?",
            ],
        },
        Situation::Feeling(Feeling::Friends) => &Templates {
            reflections: &[
                "It sounds like something with your friends is bothering you.",
                "Friendships can get complicated sometimes.",
                "I hear that things with your friends are weighing on you.",
            ],
            questions: &[
                "What happened between you?",
                "What part of it keeps coming back to your mind?",
                "How are you feeling about that friendship right now?",
            ],
        },
        Situation::Feeling(Feeling::Sleep) => &Templates {
            reflections: &[
                "It sounds like sleep has been hard for you.",
                "Restless nights can be so exhausting.",
                "When you can't sleep, everything feels heavier.",
            ],
            questions: &[
                "What's usually on your mind when you're lying awake?",
                "How long has it been like this?",
                "What goes through your head before you try to sleep?",
            ],
        },
        Situation::Feeling(Feeling::SelfWorth) => &Templates {
            reflections: &[
                "It sounds like you're being really hard on yourself.",
                "Feeling like you're not good enough is so heavy.",
                "I hear a lot of harsh thoughts about yourself.",
            ],
            questions: &[
                "What makes you see yourself this way?",
                "When do these thoughts tend to show up?",
                "If a close friend said this about themselves, what would you want to tell them?",
            ],
        },
        Situation::BotQuestion => &Templates {
            reflections: &[
                "I'm an automated listener, a computer program, not a person and not a professional.",
                "I'm software made to listen, not a human and not a counsellor.",
                "I'm an automated program, not a real person, and I can't replace a professional or an adult you trust.",
            ],
            questions: &[
                "What would you like to share with me?",
                "How are you feeling today?",
                "Is something on your mind?",
            ],
        },
        Situation::Greeting => &Templates {
            reflections: &[
                "Hi, I'm here to listen.",
                "Hello, I'm glad you reached out.",
                "Hey, thanks for stopping by.",
            ],
            questions: &[
                "How are you feeling today?",
                "What's on your mind?",
                "How has your day been?",
            ],
        },
        Situation::Thanks => &Templates {
            reflections: &[
                "You're welcome, I'm glad to listen.",
                "Thank you for trusting me with this.",
                "I'm glad we're talking.",
            ],
            questions: &[
                "How are you feeling now?",
                "Is there anything else on your mind?",
                "How are you doing right now?",
            ],
        },
        Situation::Farewell => &Templates {
            reflections: &[
                "Goodbye, and thank you for talking with me. I'm here whenever you want to talk again.",
                "Take care of yourself. You can come back any time.",
                "Thanks for sharing with me today. Be gentle with yourself.",
            ],
            questions: &[],
        },
        Situation::Unclear => &Templates {
            reflections: &[
                "I'm still here, listening.",
                "No rush, take your time.",
                "I'm here whenever you're ready.",
            ],
            questions: &[
                "What's on your mind?",
                "How are you feeling right now?",
                "Would you like to tell me a bit more?",
            ],
        },
        Situation::Generic => &Templates {
            reflections: &[
                "Thank you for sharing that with me.",
                "I'm listening.",
                "It sounds like this matters to you.",
            ],
            questions: &[
                "How does it make you feel?",
                "Could you tell me a bit more about it?",
                "What part of it is on your mind the most?",
            ],
        },
    }
}
