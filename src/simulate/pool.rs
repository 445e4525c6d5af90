//! What simulated students write: short messages like the ones the service really receives,
//! with and without diacritics, in teen code and in English, and a small share of crisis
//! messages so that the safety path is exercised too.

use rand::{Rng, RngExt};

/// Everyday worries; none of them is a crisis. Some contain hyperbole ("mệt muốn chết") that the
/// detector must not flag, because real traffic is full of it.
pub const ORDINARY: &[&str] = &[
    "Mai mình thi học kỳ môn Toán rồi mà vẫn chưa ôn xong, cứ mở sách ra là đầu óc trống rỗng, lo quá.",
    "Dạo này bố mẹ cứ so sánh mình với con nhà hàng xóm, mình cố gắng mấy cũng không thấy đủ, buồn lắm.",
    "Hôm nay đi học mệt muốn chết, bài tập nhóm thì mỗi mình làm, mấy bạn kia cứ đùn đẩy cho mình hoài.",
    "minh moi chuyen len thanh pho hoc dai hoc, chua quen ai het, toi nao cung thay co don kinh khung.",
    "Crush rep tin nhắn của mình có mỗi chữ ừ, mình có nên nhắn tiếp không hay thôi để vậy cho đỡ quê.",
    "Mình bị mất ngủ cả tuần nay vì lo chuyện điểm số, sáng dậy lên lớp không tập trung nổi cái gì cả.",
    "ko hiu sao dạo này t hay cáu với mọi ng xung quanh, xong lại thấy có lỗi, mệt mỏi vl luôn á bạn.",
    "Mình với đứa bạn thân cãi nhau to, giờ nó không nói chuyện với mình nữa, mình không biết làm sao.",
    "Thầy chủ nhiệm gọi phụ huynh vì mình nghỉ học mấy buổi, giờ về nhà chắc bị mắng, sợ lắm luôn á.",
    "Năm nay mình thi đại học mà chưa biết chọn ngành gì, bố mẹ muốn mình học y nhưng mình thích vẽ.",
    "cả lớp đi chơi mà không ai rủ mình, chắc tại mình nhạt quá, nghĩ lại thấy tủi thân ghê mn ạ.",
    "hnay bị cô gọi lên bảng mà k làm đc bài, cả lớp cười, xấu hổ muốn độn thổ luôn á huhu.",
    "bme t ly hon r, t ko bt nen o voi ai, ca 2 deu bat t chon, met moi qua di mat.",
    "Mình học lớp 12, áp lực thi cử nhiều quá, tối nào cũng học đến 2 giờ sáng mà điểm vẫn không lên.",
    "Mình đang làm thêm ở quán cà phê để đóng học phí, đi làm về mệt quá không còn sức học bài nữa.",
    "Ng yêu cũ có ng mới r, mình bt là nên quên đi mà cứ lướt story của họ hoài, sao mình ngốc vậy nhỉ.",
    "minh bi ban cung phong ky tuc xa noi xau sau lung, gio di dau cung thay ai cung nhin minh.",
    "Điểm giữa kỳ môn Lý của mình thấp nhất lớp, mình sợ về nhà bố mẹ thất vọng lắm, không dám nói.",
    "Sắp thi IELTS mà speaking của mình tệ quá, cứ nói là run, có cách nào bớt hồi hộp không bạn?",
    "Dạo này mình hay ăn uống thất thường, lúc thì không ăn gì lúc thì ăn rất nhiều, thấy lo lo.",
    "tui thấy mình chẳng giỏi cái gì hết trơn, bạn bè ai cũng có năng khiếu riêng còn tui thì không.",
    "Mình bị nhóm bạn trong lớp cô lập, nhắn tin vào nhóm không ai trả lời, mình thấy lạc lõng lắm.",
    "Bạn ơi bạn là người thật hay là máy vậy? Mình chỉ muốn có ai đó nghe mình nói chút thôi.",
    "I just moved to Hanoi for university and I feel so lonely, I do not know how to make friends here.",
    "I have so many deadlines this week and I feel like I am drowning, I cannot focus on anything.",
    "Cảm ơn bạn đã nghe mình nói, mình thấy nhẹ lòng hơn một chút rồi, mai mình sẽ thử nói với mẹ.",
];

/// Messages the detector must treat as a crisis (suicidal ideation, self-harm, abuse).
pub const CRISIS: &[&str] = &[
    "Mình thấy mọi thứ vô nghĩa quá, nhiều lúc mình không muốn sống nữa, chẳng ai hiểu mình cả.",
    "dao nay minh hay nghi den chuyen tu tu, minh met moi lam roi, khong biet noi voi ai ca.",
    "Tối qua mình lại tự làm đau bản thân, mình không muốn vậy nhưng không dừng lại được.",
    "bố t say rượu về là đánh t với mẹ, t sợ lắm ko dám về nhà, ko bt phải làm sao.",
    "Mình đã viết thư tuyệt mệnh rồi, mình nghĩ mọi người sẽ nhẹ nhõm hơn khi không có mình.",
    "I don't want to live anymore, everything feels pointless and I am so tired of trying.",
];

/// One message to send: its text and whether it was chosen as a crisis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pick {
    /// The text.
    pub content: &'static str,
    /// Drawn from [`CRISIS`].
    pub crisis: bool,
}

/// Draws a message: a crisis one with probability `crisis_ratio` (clamped to 0..=1), otherwise
/// an ordinary one, uniformly within each list.
pub fn pick<R: Rng + ?Sized>(rng: &mut R, crisis_ratio: f64) -> Pick {
    let ratio = if crisis_ratio.is_finite() {
        crisis_ratio.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let crisis = rng.random_bool(ratio);
    let list = if crisis { CRISIS } else { ORDINARY };
    let content = list[rng.random_range(0..list.len())];
    Pick { content, crisis }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn every_message_is_valid_api_content() {
        for text in ORDINARY.iter().chain(CRISIS) {
            assert_eq!(text.trim(), *text);
            let chars = text.chars().count();
            assert!((40..=200).contains(&chars), "{chars} chars: {text}");
        }
    }

    #[test]
    fn pool_mixes_diacritics_plain_ascii_and_teen_code() {
        let ascii = ORDINARY.iter().filter(|t| t.is_ascii()).count();
        let accented = ORDINARY
            .iter()
            .filter(|t| t.contains('ả') || t.contains('ì') || t.contains('ố'))
            .count();
        assert!(ascii >= 3, "needs messages typed without diacritics");
        assert!(accented >= 10, "needs messages with diacritics");
        assert!(
            ORDINARY
                .iter()
                .any(|t| t.contains(" ko ") || t.contains(" k ") || t.contains("bt"))
        );
        assert!(CRISIS.iter().any(|t| t.is_ascii()) && CRISIS.iter().any(|t| !t.is_ascii()));
    }

    #[test]
    fn ratio_zero_and_one_are_exact() {
        let mut rng = StdRng::seed_from_u64(1);
        assert!((0..500).all(|_| !pick(&mut rng, 0.0).crisis));
        assert!((0..500).all(|_| pick(&mut rng, 1.0).crisis));
        // Out-of-range ratios are clamped rather than panicking inside `random_bool`.
        assert!((0..50).all(|_| pick(&mut rng, 7.0).crisis));
        assert!((0..50).all(|_| !pick(&mut rng, -1.0).crisis));
        assert!((0..50).all(|_| !pick(&mut rng, f64::NAN).crisis));
    }

    #[test]
    fn picks_come_from_the_matching_list_at_about_the_requested_ratio() {
        let mut rng = StdRng::seed_from_u64(42);
        let draws: Vec<Pick> = (0..20_000).map(|_| pick(&mut rng, 0.05)).collect();
        for p in &draws {
            let list = if p.crisis { CRISIS } else { ORDINARY };
            assert!(list.contains(&p.content));
        }
        let share = draws.iter().filter(|p| p.crisis).count() as f64 / draws.len() as f64;
        assert!((0.04..0.06).contains(&share), "crisis share {share}");
    }
}
