/** `cynork users disable <handle|id>` (admin). */
import { activeSwitch } from "./user-line";

export default activeSwitch("disable");
